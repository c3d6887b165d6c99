"""Bad input, faults and hostile names: one line, exit 2, nothing lost (issue 11, sections 2-8).

Each test covers one class of fault; the README's "Guarantees" section names them.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from report_records import RunBuilder, write

from tf2bench import cli
from tf2bench.errors import OutputError
from tf2bench.records import inputs
from tf2bench.records.schema import load_results
from tf2bench.report import output
from tf2bench.report.sections import build_document


def run_cli(capsys, *args) -> tuple[int, str, str]:
    code = cli.main([str(arg) for arg in args])
    out, err = capsys.readouterr()
    return code, out, err


def small_run(path: Path, workload: str = "w", name_prefix: str = "test_t") -> Path:
    run = RunBuilder(seed=3)
    for mode, median in (("eager", 2e-3), ("xla", 5e-4)):
        run.add(
            f"benchmarks/t.py::{name_prefix}",
            {"mode": mode},
            median,
            group="g",
            family="execution",
            workload=workload,
            mode=mode,
        )
    return write(path, run.document())


def edited(path: Path, edit) -> Path:
    document = json.loads(path.read_text())
    edit(document)
    path.write_text(json.dumps(document))
    return path


def one_error_line(code: int, err: str) -> None:
    assert code == 2, err
    assert err.startswith("tf2bench: error: ") and len(err.splitlines()) == 1, err
    assert "Traceback" not in err


# ---- 3. no tracebacks, exit 1 only for a regression ----------------------------------------


def test_an_unexpected_error_is_one_line_and_exit_2_with_a_debug_hint(
    tmp_path, capsys, monkeypatch
):
    from tf2bench.commands import compare

    def broken(args):
        raise ZeroDivisionError("division by zero\nsecond line")

    monkeypatch.setattr(compare, "run", broken)
    base = small_run(tmp_path / "a.json")
    code, out, err = run_cli(capsys, "compare", base, base)
    assert code == 2 and out == ""
    assert err == (
        "tf2bench: internal error: ZeroDivisionError: division by zero second line; rerun with "
        "--debug or TF2BENCH_DEBUG=1 for the traceback\n"
    )
    code, _, err = run_cli(capsys, "--debug", "compare", base, base)
    assert code == 2 and "Traceback" in err and "ZeroDivisionError" in err
    monkeypatch.setenv("TF2BENCH_DEBUG", "1")
    code, _, err = run_cli(capsys, "compare", base, base)
    assert code == 2 and "Traceback" in err


PATHOLOGICAL = {
    "deep arrays": ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    "deep benchmarks": ('{"benchmarks": ' + "[" * 5000 + "]" * 5000 + "}", "nested too deeply"),
    "huge integer": ('{"benchmarks": [{"stats": {"median": 1' + "0" * 5000 + "}}]}", "unusable"),
    "not UTF-8": (b'{"benchmarks": ["\xff\xfe"]}', "not UTF-8"),
}


@pytest.mark.parametrize("case", list(PATHOLOGICAL))
def test_pathological_json_is_one_line(tmp_path, capsys, case):
    content, message = PATHOLOGICAL[case]
    bad = tmp_path / "bad.json"
    bad.write_bytes(content if isinstance(content, bytes) else content.encode())
    code, _, err = run_cli(capsys, "compare", small_run(tmp_path / "a.json"), bad)
    one_error_line(code, err)
    assert message in err


def _set(where: str, key: str, value):
    def edit(document):
        entry = document["benchmarks"][0]
        target = entry["extra_info"]["tf2bench"] if where == "block" else entry
        target[key] = value

    return edit


NOT_TEXT = {
    "name is a number": _set("entry", "name", 5),
    "name is a list": _set("entry", "name", [1]),
    "fullname is an object": _set("entry", "fullname", {"a": 1}),
    "group is a number": _set("entry", "group", 3),
    "workload is null": _set("block", "workload", None),
    "workload is a number": _set("block", "workload", 7),
    "family is a list": _set("block", "family", ["execution"]),
    "mode is an object": _set("block", "mode", {"a": 1}),
    "device is a number": _set("block", "device", 1),
    "a param is a list": _set("block", "params", {"phase": [1, {"x": 2}]}),
    "datetime is a number": lambda document: document.__setitem__("datetime", 5),
}


@pytest.mark.parametrize("case", list(NOT_TEXT))
def test_fields_that_must_be_text_but_are_not_are_one_line(tmp_path, capsys, case):
    bad = edited(small_run(tmp_path / "bad.json"), NOT_TEXT[case])
    for command in (["report", bad, "--out", tmp_path / "r"], ["compare", bad, bad]):
        code, _, err = run_cli(capsys, *command)
        one_error_line(code, err)
        assert "must be text" in err
    assert not (tmp_path / "r").exists()


def _times(median, data):
    def edit(document):
        for entry in document["benchmarks"]:
            entry["stats"].update(median=median, data=data)

    return edit


@pytest.mark.parametrize(
    ("median", "data", "message"),
    [
        (0.0, [0.0, 0.0, 0.0], "stats.median=0.0, expected a positive time"),
        (-1e-3, [-1e-3, -2e-3], "expected a positive time"),
        (1e-3, [1e-3, -1e-3, 2e-3], "negative times in stats.data"),
    ],
    ids=["all zero", "negative median", "a negative sample"],
)
def test_zero_or_negative_times_are_unusable_not_compared(tmp_path, capsys, median, data, message):
    good = small_run(tmp_path / "good.json")
    bad = edited(small_run(tmp_path / "bad.json"), _times(median, data))
    for command in (["compare", bad, good], ["compare", good, bad]):
        code, out, err = run_cli(capsys, *command)
        one_error_line(code, err)
        assert message in err and out == ""


def test_names_that_look_like_mathtext_render_literally(tmp_path, capsys):
    results = small_run(tmp_path / "dollar.json", workload="w$x^$")
    code, _, err = run_cli(capsys, "report", results, "--out", tmp_path / "r")
    assert code == 0, err
    assert "w$x^$" in (tmp_path / "r" / "report.md").read_text()


@pytest.fixture
def unreadable(tmp_path, monkeypatch):
    """A folder this user may not read; root ignores permissions, so EACCES is simulated."""
    folder = tmp_path / "locked"
    folder.mkdir()
    small_run(folder / "results.json")
    folder.chmod(0)
    if os.geteuid() == 0:
        prefix = str(folder)

        def denied(real):
            def call(path, *args, **kwargs):
                if os.fspath(path).startswith(prefix) and os.fspath(path) != prefix:
                    raise PermissionError(13, "Permission denied", os.fspath(path))
                if os.fspath(path) == prefix and real in (os.listdir, os.scandir):
                    raise PermissionError(13, "Permission denied", os.fspath(path))
                return real(path, *args, **kwargs)

            return call

        for name in ("stat", "listdir", "scandir", "open", "mkdir", "lstat"):
            monkeypatch.setattr(os, name, denied(getattr(os, name)))
    yield folder
    folder.chmod(0o755)


def test_an_unreadable_folder_is_one_line(tmp_path, capsys, unreadable):
    good = small_run(tmp_path / "good.json")
    for command in (
        ["report", unreadable / "results.json", "--out", tmp_path / "r"],
        ["compare", good, unreadable / "results.json"],
        ["report", good, "--out", unreadable / "report"],
        ["report", good, "--out", unreadable],
    ):
        code, _, err = run_cli(capsys, *command)
        one_error_line(code, err)
        assert "Permission denied" in err or "cannot be" in err


# ---- 6. bounds on input --------------------------------------------------------------------


def test_devices_pipes_and_huge_files_are_refused_before_reading(tmp_path, capsys, monkeypatch):
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)  # reading it would block for ever
    for path in ("/dev/zero", fifo):
        code, _, err = run_cli(capsys, "compare", path, path)
        one_error_line(code, err)
        assert "is a device, pipe or socket, expected a regular file" in err
    big = small_run(tmp_path / "big.json")
    monkeypatch.setattr(inputs, "MAX_INPUT_BYTES", 100)
    code, _, err = run_cli(capsys, "compare", big, big)
    one_error_line(code, err)
    assert f"{big.stat().st_size} bytes, expected at most 100 bytes" in err


# ---- 2. no lost reports --------------------------------------------------------------------


def test_a_users_own_folder_is_never_taken_for_a_report(tmp_path, capsys):
    mine = tmp_path / "notes"
    (mine / "figures").mkdir(parents=True)
    (mine / "report.md").write_text("my own notes")
    code, _, err = run_cli(capsys, "report", small_run(tmp_path / "a.json"), "--out", mine)
    one_error_line(code, err)
    assert "no .tf2bench-report mark" in err
    assert (mine / "report.md").read_text() == "my own notes"


def test_a_symlinked_out_folder_is_followed_and_the_link_kept(tmp_path, capsys):
    results = small_run(tmp_path / "a.json")
    real = tmp_path / "reports" / "2026-12-03"
    assert run_cli(capsys, "report", results, "--out", real)[0] == 0
    link = tmp_path / "latest"
    link.symlink_to(real)
    (real / "report.md").write_text("stale")
    assert run_cli(capsys, "report", results, "--out", link)[0] == 0
    assert link.is_symlink() and link.resolve() == real.resolve()
    assert (real / "report.md").read_text() != "stale"
    assert sorted(p.name for p in tmp_path.iterdir() if ".old-" in p.name) == []
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    code, _, err = run_cli(capsys, "report", results, "--out", tmp_path / "dangling")
    one_error_line(code, err)
    assert "dangling symlink" in err


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_swap_cut_between_its_renames_is_repaired_by_the_next_run(tmp_path, monkeypatch):
    out = tmp_path / "report"
    document = build_document([load_results(small_run(tmp_path / "a.json"))])
    output.write_report(document, out)
    earlier = (out / "report.md").read_text()
    # What a writer killed after `target -> .report.old-PID-*` leaves: no report at all.
    moved = tmp_path / f".report.old-{_dead_pid()}-abc"
    out.rename(moved)
    (tmp_path / f".report.tmp-{_dead_pid()}-def").mkdir()

    def disk_full(document):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(output.render, "render_html", disk_full)
    with pytest.raises(OutputError, match="No space left"):
        output.write_report(document, out)
    assert (out / "report.md").read_text() == earlier, "the earlier report must be put back"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "report"]


def test_the_swap_is_one_atomic_exchange(tmp_path, monkeypatch):
    out = tmp_path / "report"
    document = build_document([load_results(small_run(tmp_path / "a.json"))])
    output.write_report(document, out)
    renames = []
    real_rename = Path.rename
    monkeypatch.setattr(
        Path, "rename", lambda self, to: renames.append(to) or real_rename(self, to)
    )
    output.write_report(document, out)
    assert renames == [], "replacing a report must not go through a moment with no report"
    assert (out / output.MARK).is_file()


def test_a_second_writer_is_refused_while_the_first_holds_the_lock(tmp_path, capsys):
    results = small_run(tmp_path / "a.json")
    fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        code, _, err = run_cli(capsys, "report", results, "--out", tmp_path / "r")
    finally:
        os.close(fd)
    one_error_line(code, err)
    assert "another tf2bench process is writing a report" in err
    assert not (tmp_path / "r").exists()


# ---- 8. Markdown that cannot run script ----------------------------------------------------

HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>\\`<b onload=x>`[a](javascript:y)"


def test_the_markdown_holds_no_html_or_link_from_records(tmp_path, capsys):
    results = small_run(tmp_path / "evil.json", workload=HOSTILE, name_prefix=f"test_{HOSTILE}")
    code, _, err = run_cli(capsys, "report", results, "--out", tmp_path / "r", "--title", HOSTILE)
    assert code == 0, err
    markdown = (tmp_path / "r" / "report.md").read_text()
    assert "alert(1)" in markdown, "the hostile names must be in the report, escaped"
    for raw in ("<script", "<img", "<b ", "](javascript"):
        assert raw not in markdown


# ---- 4. summaries: all or nothing ----------------------------------------------------------


def test_summaries_write_long_names_safely_and_nothing_when_a_path_cannot_be(tmp_path, capsys):
    results = small_run(tmp_path / "a.json", name_prefix="test_" + "x" * 400)
    code, _, err = run_cli(capsys, "summaries", results, "--logdir", tmp_path / "tb")
    assert code == 0, err
    sessions = [p for p in (tmp_path / "tb").rglob("*") if p.is_dir() and "xxx" in p.name]
    assert len(sessions) == 2 and all(len(p.name) <= 120 for p in sessions)
    # A logdir so deep that the session folders would pass PATH_MAX: refused, nothing written.
    deep = tmp_path.joinpath(*["d" * 200] * ((4000 - len(str(tmp_path))) // 201))
    deep.mkdir(parents=True)
    code, _, err = run_cli(capsys, "summaries", results, "--logdir", deep, "--label", "l" * 120)
    one_error_line(code, err)
    assert "choose a shorter --logdir" in err
    assert list(deep.iterdir()) == []


def test_gzip_bombs_are_refused_by_their_decompressed_size(tmp_path, capsys, monkeypatch):
    import gzip

    packed = tmp_path / "a.json.gz"
    packed.write_bytes(gzip.compress(small_run(tmp_path / "a.json").read_bytes()))
    monkeypatch.setattr(inputs, "MAX_INPUT_BYTES", packed.stat().st_size + 10)
    code, _, err = run_cli(capsys, "compare", packed, packed)
    one_error_line(code, err)
    assert "once decompressed" in err


def test_thread_counts_are_bounded_by_the_cpus(monkeypatch):
    from tf2bench.errors import UsageError
    from tf2bench.harness import runtime

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    assert runtime.parse_threads("8") == "8"
    for bad in ("9", "100000", "0"):
        with pytest.raises(UsageError, match="integer from 1 to 8"):
            runtime.parse_threads(bad)


# ---- 7. messages that say what happened ----------------------------------------------------


def test_an_option_pytest_rejects_is_reported_as_pytests_error(tmp_path, capsys):
    bench = tmp_path / "test_b.py"
    bench.write_text("def test_x(benchmark):\n    benchmark(lambda: None)\n")
    code, _, err = run_cli(
        capsys,
        "profile",
        f"{bench}::test_x",
        "--logdir",
        tmp_path / "logs",
        "--pytest",
        "--no-such-pytest-option",
    )
    one_error_line(code, err)
    assert "pytest refused its arguments" in err and "--no-such-pytest-option" in err
    assert "no such benchmark" not in err


def test_partial_runs_and_skipped_records_are_named(tmp_path, capsys):
    def mark(document):
        document["tf2bench"] = {"partial": True, "exitstatus": 2}
        document["benchmarks"].append({"name": "test_other_tool", "stats": {"median": 1.0}})

    partial = edited(small_run(tmp_path / "partial.json"), mark)
    code, _, err = run_cli(capsys, "compare", partial, partial)
    assert code == 0, err
    assert "partial.json is a partial run: it was interrupted" in err
    assert "1 benchmarks were skipped because they have no extra_info['tf2bench'] block" in err
    code, _, err = run_cli(capsys, "report", partial, "--out", tmp_path / "r")
    assert code == 0 and "is a partial run" in (tmp_path / "r" / "report.md").read_text()
