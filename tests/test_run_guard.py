"""A measuring pytest run: --benchmark-json checked first, written whole, partial said, SIGTERM
cleans up like SIGINT, stale temp folders of dead processes removed (issue 11, sections 2, 5)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tf2bench.tempdirs import remove_stale, temp_prefix

STOPPED = """
import os, signal, tempfile
from tf2bench.tempdirs import temp_prefix

# A shell's background job inherits SIGINT ignored; this test is about what an interrupt does.
signal.signal(signal.SIGINT, signal.default_int_handler)

def test_a(benchmark):
    benchmark(lambda: None)

def test_b(benchmark):
    with tempfile.TemporaryDirectory(prefix=temp_prefix("saved")) as folder:
        open(os.path.join(folder, "state"), "w").close()
        with open("held.txt", "w") as note:
            note.write(folder)
        os.kill(os.getpid(), signal.SIG{signal})
        benchmark(lambda: None)

def test_c(benchmark):
    benchmark(lambda: None)
"""


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def run(pytester, *args):
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "--benchmark-only", *args)


def test_benchmark_json_in_a_missing_folder_is_created_and_a_folder_path_refused(pytester):
    pytester.makepyfile(test_one="def test_a(benchmark):\n    benchmark(lambda: None)\n")
    result = run(pytester, "--benchmark-json=results/new/out.json")
    assert result.ret == 0, result.stdout.str()
    document = json.loads((pytester.path / "results/new/out.json").read_text())
    assert [b["name"] for b in document["benchmarks"]] == ["test_a"]
    assert document["tf2bench"]["partial"] is False
    (pytester.path / "afolder").mkdir()
    result = run(pytester, "--benchmark-json=afolder")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "is a folder, expected a file path" in result.stderr.str()
    assert "test_a" not in result.stdout.str(), "refused before anything ran"


@pytest.mark.parametrize("signal", ["INT", "TERM"])
def test_an_interrupted_run_is_marked_partial_and_leaves_no_temp_folder(pytester, signal):
    pytester.makepyfile(test_stop=STOPPED.replace("{signal}", signal))
    out = pytester.path / "out.json"
    out.write_text('{"earlier": "run"}')
    result = run(pytester, f"--benchmark-json={out}")
    assert result.ret == pytest.ExitCode.INTERRUPTED, result.stdout.str()
    document = json.loads(out.read_text())
    assert document["tf2bench"]["partial"] is True
    assert [b["name"] for b in document["benchmarks"]] == ["test_a"]
    held = Path((pytester.path / "held.txt").read_text())
    assert not held.exists(), "SIGTERM must clean up as SIGINT does"
    assert [p.name for p in pytester.path.iterdir() if ".tmp-" in p.name] == []


def test_stale_temp_folders_of_dead_processes_go_and_nothing_else(tmp_path):
    dead = tmp_path / f"tf2bench-saved-{_dead_pid()}-abc123"
    mine = tmp_path / f"{temp_prefix('saved')}xyz"
    other = [tmp_path / "tf2bench-saved-notapid", tmp_path / "someone-else-123-abc"]
    for folder in (dead, mine, *other):
        folder.mkdir()
    dead_file = tmp_path / f"tf2bench-saved-{_dead_pid()}-file"
    dead_file.write_text("a file is never ours")
    assert remove_stale(tmp_path) == [dead]
    assert not dead.exists() and mine.exists() and dead_file.exists()
    assert all(folder.exists() for folder in other)


def test_a_measuring_run_removes_stale_temp_folders_first(pytester, monkeypatch):
    stale = Path(tempfile.gettempdir()) / f"tf2bench-workers-{_dead_pid()}-stale1"
    stale.mkdir()
    pytester.makepyfile(test_one="def test_a(benchmark):\n    benchmark(lambda: None)\n")
    result = run(pytester)
    assert result.ret == 0 and not stale.exists()


def test_the_cli_stops_on_sigterm_like_on_sigint(tmp_path):
    code = """
import sys, tempfile, time, shutil
from tf2bench import cli
from tf2bench.commands import report
def slow(args):
    folder = tempfile.mkdtemp(dir=sys.argv[1])
    try:
        print("ready", flush=True)
        time.sleep(60)
    finally:
        shutil.rmtree(folder)
report.run = slow
sys.exit(cli.main(["report", "x.json", "--out", "r"]))
"""
    child = subprocess.Popen(
        [sys.executable, "-c", code, str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )
    assert child.stdout.readline().strip() == "ready"
    child.terminate()
    _, err = child.communicate(timeout=30)
    assert child.returncode == 143 and err == "tf2bench: stopped by SIGTERM\n"
    assert list(tmp_path.iterdir()) == [], "the command's clean-up must run"


def test_a_run_where_every_benchmark_failed_says_so_and_keeps_the_earlier_file(pytester):
    from tf2bench.errors import RecordError
    from tf2bench.records.schema import parse_results

    pytester.makepyfile(test_fail="def test_a(benchmark):\n    raise RuntimeError('died')\n")
    out = pytester.path / "out.json"
    out.write_text('{"earlier": "run"}')
    result = run(pytester, f"--benchmark-json={out}")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert out.read_text() == '{"earlier": "run"}', "nothing measured: the earlier file stays"
    assert [p.name for p in pytester.path.iterdir() if ".tmp-" in p.name] == []
    empty = {"benchmarks": [], "tf2bench": {"partial": False, "exitstatus": 1}}
    with pytest.raises(RecordError, match="exit status 1 before any benchmark finished") as error:
        parse_results(empty, where="out.json")
    assert "--benchmark-only" not in str(error.value)


AUTOGRAPH_TEST = """
import os, time
import tensorflow as tf

def test_converts_then_waits():
    @tf.function
    def branchy(x):
        if tf.reduce_sum(x) > 0:  # a tensor condition: AutoGraph writes a converted module
            return x * 2
        return x
    branchy(tf.ones([2]))
    open(os.environ["READY_FILE"], "w").close()
    time.sleep(120)
"""


@pytest.mark.slow
def test_autograph_files_of_a_killed_run_are_removed_by_the_next(tmp_path):
    temp_root, ready = tmp_path / "tmp", tmp_path / "ready"
    temp_root.mkdir()
    (tmp_path / "test_autograph.py").write_text(AUTOGRAPH_TEST)
    env = {**os.environ, "TMPDIR": str(temp_root), "READY_FILE": str(ready)}
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    child = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_autograph.py"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while not ready.exists() and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert ready.exists(), "the child never converted its function"
        generated = list(temp_root.rglob("__autograph_generated_file*"))
        assert generated, "AutoGraph wrote no module"
        # Every generated module sits in the run's own folder, none loose in the temp dir.
        assert all(f.parent.name.startswith(f"tf2bench-run-{child.pid}-") for f in generated)
    finally:
        child.kill()
        child.wait()
    assert remove_stale(temp_root) and not list(temp_root.rglob("__autograph_generated_file*"))
