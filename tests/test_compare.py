"""`tf2bench compare`: regressions need significance and size; exit codes 0, 1 and 2."""

from __future__ import annotations

import json
import math

import pytest
from goldens import GOLDEN_COMPARE, SLOWER, compare_output
from report_records import DATA, doctored, without_samples, write

from tf2bench.cli import main
from tf2bench.errors import UsageError
from tf2bench.records.schema import load_results
from tf2bench.report.compare import compare_runs, parse_alpha, parse_threshold

STEP = SLOWER
COLD = "test_cold_start[cpu-mlp_train-xla]"


@pytest.fixture(scope="module")
def base_document() -> dict:
    return json.loads((DATA / "sample_base.json").read_text())


def compare(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["compare", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def status_of(out: str, name: str) -> str:
    """The status in the full table (the last table of the output)."""
    full = out[out.index("## All ") :]
    (row,) = [line for line in full.splitlines() if line.startswith(f"| {name} ")]
    return row.split("|")[-2].strip()


def test_an_independent_run_of_the_same_machine_passes(capsys):
    code, out, err = compare(capsys, DATA / "sample_base.json", DATA / "sample_head.json")
    assert code == 0, out
    assert "REGRESSION" not in out and "no regression" in out and err == ""


def test_a_run_compared_with_itself_passes(capsys, base_document):
    code, out, _ = compare(capsys, DATA / "sample_base.json", DATA / "sample_base.json")
    assert code == 0
    count = len(base_document["benchmarks"])
    assert f"geometric mean ({count} benchmarks) | | | +0.0%" in " ".join(out.split())
    assert "Changes that matter" not in out


def test_a_doctored_regression_is_caught(tmp_path, capsys, base_document):
    base = write(tmp_path / "base.json", base_document)
    head = write(tmp_path / "head.json", doctored(base_document, STEP, 1.3))
    code, out, _ = compare(capsys, base, head)
    assert code == 1
    assert status_of(out, STEP) == "REGRESSION"
    # That row only, in the short table first and in the full table; "regression(s)" after.
    assert out.count("REGRESSION") == 2
    assert out.index("## Changes that matter (1)") < out.index(STEP) < out.index("## All ")
    assert f"1 regression(s): {STEP}\n" in out
    # The geometric mean of the head/base ratios: one benchmark of all is 1.3x slower.
    geomean = math.exp(math.log(1.3) / len(base_document["benchmarks"])) - 1
    (row,) = [line for line in out.splitlines() if line.startswith("| geometric mean")]
    assert f"+{geomean:.1%}" in row


def test_golden_change_table():
    code, out = compare_output()
    assert code == 1
    # After a deliberate change: `make goldens`, then review the diff.
    assert out == GOLDEN_COMPARE.read_text()


@pytest.mark.parametrize(
    ("factor", "threshold", "status", "code"),
    [
        (1.05, "10%", "slower, within threshold", 0),
        (1.05, "2%", "REGRESSION", 1),
        (0.7, "10%", "improved", 0),
        (1.0, "10%", "no significant change", 0),
    ],
)
def test_size_threshold(tmp_path, capsys, base_document, factor, threshold, status, code):
    base = write(tmp_path / "base.json", base_document)
    head = write(tmp_path / "head.json", doctored(base_document, STEP, factor))
    result, out, _ = compare(capsys, base, head, "--threshold", threshold)
    assert (result, status_of(out, STEP)) == (code, status)


def test_a_large_change_with_too_few_rounds_is_not_called_significant(
    tmp_path, capsys, base_document
):
    # 5 rounds each: the smallest one-sided p-value is 1/252 > alpha=0.001.
    base = write(tmp_path / "base.json", base_document)
    head = write(tmp_path / "head.json", doctored(base_document, COLD, 2.0))
    code, out, _ = compare(capsys, base, head, "--alpha", "0.001")
    assert code == 0
    assert status_of(out, COLD) == "slower, too few rounds to test"


def test_files_without_raw_samples_compare_on_medians_with_a_warning(
    tmp_path, capsys, base_document
):
    base = write(tmp_path / "base.json", without_samples(base_document))
    head = write(tmp_path / "head.json", without_samples(doctored(base_document, STEP, 1.3)))
    code, out, err = compare(capsys, base, head)
    assert code == 0
    assert status_of(out, STEP) == "slower, untested"
    assert "significance could not be tested" in err and len(err.splitlines()) == 1


def test_different_fingerprints_are_refused_unless_forced(tmp_path, capsys, base_document):
    other = json.loads(json.dumps(base_document))
    other["machine_info"]["tf2bench"]["tensorflow"] = "2.20.0"
    base = write(tmp_path / "base.json", base_document)
    head = write(tmp_path / "head.json", other)
    code, out, err = compare(capsys, base, head)
    assert code == 2 and out == ""
    assert err.startswith(f"tf2bench: error: {head}: environment fingerprint")
    assert "tensorflow: '2.21.0' vs '2.20.0'" in err and len(err.splitlines()) == 1
    code, out, err = compare(capsys, base, head, "--force")
    assert code == 0 and "fingerprints differ" in err and "no regression" in out


def test_runs_without_common_benchmarks_are_unusable(tmp_path, capsys, base_document):
    renamed = json.loads(json.dumps(base_document))
    for entry in renamed["benchmarks"]:
        entry["fullname"] += "-renamed"
    base = write(tmp_path / "base.json", base_document)
    head = write(tmp_path / "head.json", renamed)
    code, _, err = compare(capsys, base, head)
    assert code == 2 and "no benchmark in common" in err


def test_benchmarks_in_one_file_only_are_listed(tmp_path, base_document):
    fewer = json.loads(json.dumps(base_document))
    dropped = fewer["benchmarks"].pop()
    base = load_results(write(tmp_path / "base.json", base_document))
    comparison = compare_runs(base, load_results(write(tmp_path / "head.json", fewer)))
    assert comparison.only_base == (dropped["name"],) and comparison.only_head == ()
    assert len(comparison.changes) == len(fewer["benchmarks"])


@pytest.mark.parametrize(
    ("text", "value"), [("10%", 0.10), ("2.5%", 0.025), ("0.1", 0.1), ("0", 0.0)]
)
def test_threshold_parsing(text, value):
    assert parse_threshold(text) == pytest.approx(value)


@pytest.mark.parametrize("text", ["ten", "150%", "-5%", "2", ""])
def test_bad_threshold_or_alpha_exit_2(capsys, text):
    with pytest.raises(UsageError, match="--threshold"):
        parse_threshold(text)
    code, _, err = compare(
        capsys, DATA / "sample_base.json", DATA / "sample_head.json", f"--threshold={text}"
    )
    assert code == 2 and err.startswith("tf2bench: error: Received an invalid --threshold")
    with pytest.raises(UsageError, match="--alpha"):
        parse_alpha(text)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "the file is empty"),
        ('{"benchmarks": [{"name"', "not valid JSON (truncated"),
        ("<html></html>", "not valid JSON"),
        ('{"name": "my-app", "version": "1.0.0"}', "not pytest-benchmark JSON"),
    ],
)
def test_unusable_input_exits_2_with_one_line(tmp_path, capsys, content, message):
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    for args in ((bad, DATA / "sample_base.json"), (DATA / "sample_base.json", bad)):
        code, out, err = compare(capsys, *args)
        assert code == 2 and out == ""
        assert err.startswith(f"tf2bench: error: {bad}: ")
        assert message in err and len(err.splitlines()) == 1


def test_missing_file_exits_2(tmp_path, capsys):
    code, _, err = compare(capsys, tmp_path / "absent.json", DATA / "sample_base.json")
    assert code == 2 and f"{tmp_path / 'absent.json'}: no such file" in err
