"""`tf2bench report` end to end: bad input, safe writes, no TensorFlow, big runs, the reference."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from report_records import DATA, RunBuilder, large_run, write

from tf2bench.cli import main
from tf2bench.errors import OutputError
from tf2bench.records.files import read_results_text
from tf2bench.records.schema import load_results
from tf2bench.report import render
from tf2bench.report.screenshot import chromium_command, screenshot
from tf2bench.report.sections import build_document

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO / "reports" / "reference.json.gz"
SMALL = DATA / "sample_head.json"


def _tf2bench_entry(stats=None, **block) -> str:
    """A one-benchmark results file whose tf2bench block (or stats) holds the given values."""
    record = {"schema_version": 1, "family": "execution", "workload": "w", **block}
    entry = {
        "name": "test_x",
        "stats": stats or {"median": 1.0},
        "extra_info": {"tf2bench": record},
    }
    return json.dumps({"benchmarks": [entry]})


BAD_FILES = {
    "empty": ("", "the file is empty"),
    "truncated": ('{"machine_info": {}, "benchmarks": [{"name": "test_', "truncated"),
    "not json": ("name,median\nstep,0.1\n", "not valid JSON"),
    "another tool": ('{"results": [{"command": "sleep 1", "mean": 1.0}]}', "not pytest-benchmark"),
    "plain pytest-benchmark": (
        '{"benchmarks": [{"name": "test_x", "stats": {"median": 1.0}, "extra_info": {}}]}',
        "not tf2bench results",
    ),
    "extra_info not an object": (
        '{"benchmarks": [{"name": "test_x", "stats": {"median": 1.0}, "extra_info": [1]}]}',
        "not tf2bench results",
    ),
    "text in the raw samples": (
        _tf2bench_entry(stats={"median": 1.0, "data": [1.0, "x"]}),
        "non-numeric values in stats.data",
    ),
    "text as a metric": (
        _tf2bench_entry(metrics={"replicas": "two"}),
        "metrics must map names to numbers",
    ),
    "text as batch size": (_tf2bench_entry(batch_size="big"), "batch_size must be a number"),
}


def report(capsys, *args) -> tuple[int, str, str]:
    code = main(["report", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".tmp-" in p.name or ".old-" in p.name)


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_unusable_results_exit_2_with_one_line(tmp_path, capsys, case):
    content, message = BAD_FILES[case]
    bad = tmp_path / "results.json"
    bad.write_text(content)
    code, out, err = report(capsys, SMALL, bad, "--out", tmp_path / "report")
    assert code == 2 and out == ""
    assert err.startswith(f"tf2bench: error: {bad}: ") and message in err
    assert len(err.splitlines()) == 1
    assert not (tmp_path / "report").exists() and leftovers(tmp_path) == []


@pytest.mark.slow
def test_the_console_script_prints_no_traceback(tmp_path):
    bad = tmp_path / "truncated.json"
    bad.write_text(SMALL.read_text()[:5000])
    done = subprocess.run(
        [sys.executable, "-m", "tf2bench.cli", "report", str(bad), "--out", str(tmp_path / "r")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith(f"tf2bench: error: {bad}: not valid JSON (truncated")
    assert "Traceback" not in done.stderr and len(done.stderr.splitlines()) == 1


def test_an_output_folder_that_cannot_be_written_exits_2(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    code, _, err = report(capsys, SMALL, "--out", blocker / "report")
    assert code == 2
    assert err == (
        f"tf2bench: error: {blocker / 'report'}: cannot be written ({blocker} is a file, "
        "not a folder)\n"
    )
    code, _, err = report(capsys, SMALL, "--out", blocker)
    assert code == 2 and "exists and is not a folder" in err


def test_a_folder_with_other_files_is_not_replaced(tmp_path, capsys):
    out = tmp_path / "results"
    out.mkdir()
    (out / "run.json").write_text("{}")
    code, _, err = report(capsys, SMALL, "--out", out)
    assert code == 2 and "holds files that are not part of a tf2bench report (run.json)" in err
    assert (out / "run.json").read_text() == "{}"


def two_step_run(tmp_path: Path) -> Path:
    run = RunBuilder(seed=8)
    for mode, median in (("eager", 2e-3), ("xla", 5e-4)):
        run.add(
            "benchmarks/t.py::test_t",
            {"mode": mode},
            median,
            group="g",
            family="execution",
            workload="w",
            mode=mode,
        )
    return write(tmp_path / "two.json", run.document())


@pytest.mark.slow
def test_an_existing_report_is_replaced_whole_or_not_at_all(tmp_path, monkeypatch):
    out = tmp_path / "report"
    render.write_report(build_document([load_results(REFERENCE)]), out)
    before = {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert "retracing.svg" in before

    def disk_full(document):
        raise OSError(28, "No space left on device")

    second = build_document([load_results(two_step_run(tmp_path))])
    monkeypatch.setattr(render, "render_html", disk_full)
    with pytest.raises(OutputError, match="cannot be written \\(No space left on device\\)"):
        render.write_report(second, out)
    assert {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert leftovers(tmp_path) == []

    monkeypatch.undo()
    render.write_report(second, out)
    figures = {p.name for p in (out / "figures").iterdir()}
    assert figures == {f"{plot.name}.svg" for plot in second.plots()}  # no stale figures
    assert "retracing.svg" not in figures and "two.json" in (out / "report.md").read_text()
    assert leftovers(tmp_path) == []


@pytest.fixture(scope="module")
def reference_without_tensorflow(tmp_path_factory):
    """One process renders and compares the committed reference with the report layer alone;
    (its output folder, the finished process). Two tests read it."""
    tmp_path = tmp_path_factory.mktemp("reference")
    code = f"""
import argparse, sys
import tf2bench.commands.compare, tf2bench.commands.report
import tf2bench.records.schema, tf2bench.records.stats, tf2bench.report.screenshot
parser = argparse.ArgumentParser()
commands = parser.add_subparsers(dest="command", required=True)
tf2bench.commands.report.register(commands)
tf2bench.commands.compare.register(commands)
for argv in (["report", {str(REFERENCE)!r}, "--out", {str(tmp_path / "reference")!r}],
             ["compare", {str(REFERENCE)!r}, {str(REFERENCE)!r}]):
    args = parser.parse_args(argv)
    assert args.func(args) == 0
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras"))
assert not loaded, loaded
print("no tensorflow")
"""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=tmp_path
    )
    return tmp_path / "reference", done


@pytest.mark.slow
def test_the_report_layer_never_imports_tensorflow(reference_without_tensorflow):
    _, done = reference_without_tensorflow
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("no tensorflow")


@pytest.mark.slow
def test_a_report_of_500_benchmarks_contains_them_all(tmp_path, capsys):
    # Speed is checked by hand (see reports/README.md), never asserted in a unit test.
    document = large_run(500, rounds=50)
    path = write(tmp_path / "large.json", document)
    code, out, _ = report(capsys, path, "--out", tmp_path / "report")
    assert code == 0 and "figures" in out
    markdown = (tmp_path / "report" / "report.md").read_text()
    appendix = markdown[markdown.index("## All results") :]
    names = re.findall(r"^\| (test_[^ ]+) \|", appendix, re.M)
    assert len(names) == 500
    assert set(names) == {entry["name"] for entry in document["benchmarks"]}


@pytest.mark.slow
def test_the_committed_reference_report_regenerates(reference_without_tensorflow):
    # What `make report-check` runs in CI: the committed reference JSON must always render.
    out, done = reference_without_tensorflow
    assert done.returncode == 0, done.stderr
    assert (out / "report.html").stat().st_size > 0
    document = json.loads(read_results_text(REFERENCE))
    markdown = (out / "report.md").read_text()
    assert all(entry["name"] in markdown for entry in document["benchmarks"])


def test_chromium_command_is_headless_and_isolated(tmp_path):
    command = chromium_command(
        "chromium", tmp_path / "r.html", tmp_path / "r.png", tmp_path, 800, 600
    )
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path}",
        "--window-size=800,600",
    ):
        assert flag in command
    assert command[-1] == (tmp_path / "r.html").absolute().as_uri()


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("chromium") is None, reason="headless Chromium is not installed")
def test_the_html_report_renders_in_chromium(tmp_path):
    render.write_report(build_document([load_results(REFERENCE)]), tmp_path / "report")
    png = screenshot(tmp_path / "report" / "report.html", tmp_path / "shot.png", height=900)
    from matplotlib import image

    pixels = image.imread(png)
    assert pixels.shape[:2] == (900, 1280)
    assert pixels[..., :3].std() > 0.05  # text and figures, not a blank page


def test_progress_goes_to_stderr_only_once_a_report_is_slow(capsys, monkeypatch):
    from tf2bench.commands import report as report_command

    clock = iter([100.0, 100.5, 103.0])
    monkeypatch.setattr(report_command.time, "monotonic", lambda: next(clock))
    progress = report_command.Progress()
    progress("execution")  # 0.5 s in: quiet
    progress("figure 1 of 2")  # 3 s in: reported
    assert capsys.readouterr().err == "tf2bench report: figure 1 of 2 (3.0 s)\n"


def test_build_document_reports_every_section_step():
    steps: list[str] = []
    build_document([load_results(SMALL)], progress=steps.append)
    assert steps[:3] == ["execution", "cold", "retracing"] and "distributions" in steps


@pytest.mark.parametrize("enabled", [True, False])
def test_the_report_runs_without_cycle_collection_and_restores_it(
    tmp_path, capsys, monkeypatch, enabled
):
    import gc

    from tf2bench.report import output

    seen = []
    write_report = output.write_report

    def recording(*args, **kwargs):
        seen.append(gc.isenabled())
        return write_report(*args, **kwargs)

    monkeypatch.setattr(output, "write_report", recording)
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        code, _, _ = report(capsys, SMALL, "--out", tmp_path / "report")
        after = gc.isenabled()
    finally:
        (gc.enable if was else gc.disable)()
    assert code == 0 and seen == [False]
    assert after is enabled
