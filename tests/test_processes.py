"""N fresh processes: the plan, the pytest command, the busy warning, `tf2bench run` end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tf2bench.errors import UsageError
from tf2bench.harness import processes
from tf2bench.harness.processes import Process, Tree, plan_processes, pytest_command

ROOT = Path(__file__).resolve().parents[1]


def test_selection_mode_runs_everything_in_each_process():
    assert plan_processes(3, "selection") == [Process(1), Process(2), Process(3)]


def test_benchmark_mode_runs_one_benchmark_per_process_round_by_round():
    plan = plan_processes(2, "benchmark", ["a", "b"])
    assert [(p.index, p.node_ids) for p in plan] == [
        (1, ("a",)),
        (1, ("b",)),
        (2, ("a",)),
        (2, ("b",)),
    ]


@pytest.mark.parametrize("count, mode", [(0, "selection"), (-1, "selection"), (2, "round")])
def test_bad_plans_are_usage_errors(count, mode):
    with pytest.raises(UsageError, match="Received"):
        plan_processes(count, mode)


def test_the_tree_comes_first_on_pythonpath_and_plugins_are_named(tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", "/elsewhere")
    tree = Tree(tmp_path, python="/py", label="base", env={"X": "1"})
    env = tree.environ()
    assert env["PYTHONPATH"].split(os.pathsep) == [str(tmp_path), "/elsewhere"]
    assert env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] == "1" and env["X"] == "1"
    command = pytest_command(tree, tmp_path / "o.json", ["-k", "x"])
    assert command[:3] == ["/py", "-m", "pytest"]
    assert "tf2bench.pytest_plugin" in command and "pytest_benchmark.plugin" in command
    assert command[-3:] == [f"--benchmark-json={tmp_path / 'o.json'}", "-k", "x"]
    assert "benchmarks" in command
    single = pytest_command(tree, tmp_path / "o.json", [], ["benchmarks/t.py::a"])
    assert "benchmarks/t.py::a" in single and "benchmarks" not in single


@pytest.mark.parametrize(
    "state, busy",
    [
        ({"load_avg": [0.1, 0.1, 0.1], "runnable": 1}, False),
        ({"load_avg": [5.0, 1.0, 1.0], "runnable": 1}, True),
        ({"load_avg": [0.1, 0.1, 0.1], "runnable": 99}, True),
        ({"load_avg": None, "runnable": None}, False),
    ],
)
def test_busy_warning_is_one_line_when_load_or_runnable_is_high(monkeypatch, state, busy):
    from tf2bench.harness import environment

    monkeypatch.setattr(environment, "collect_machine_state", lambda: state)
    monkeypatch.setattr(processes.os, "cpu_count", lambda: 2)
    warning = processes.busy_warning()
    assert (warning is not None) == busy
    if busy:
        assert warning.count("\n") == 0 and "busy" in warning and "2 cores" in warning


def test_default_processes_per_preset():
    assert processes.default_processes("quick") == processes.DEFAULT_PROCESSES["quick"]
    assert all(processes.default_processes(p) >= 2 for p in ("quick", "standard", "full"))


TINY = """
def test_tiny(benchmark):
    benchmark(sum, range(200))


def test_other(benchmark):
    benchmark(sorted, range(200))
"""


def cli(*args, cwd, env=None, timeout=600):
    environ = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "tf2bench.cli", *args],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.slow
def test_run_merges_fresh_processes_and_saves_raw_data_in_storage(tmp_path):
    (tmp_path / "benchmarks").mkdir()
    (tmp_path / "benchmarks" / "test_small.py").write_text(TINY)
    out = tmp_path / "results" / "run.json"
    result = cli(
        "run", "--processes", "2", "--preset", "quick", "--out", str(out), "--",
        "-k", "tiny", "--benchmark-min-rounds=5", "--benchmark-max-time=0.01",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    merged = json.loads(out.read_text())
    assert [b["name"] for b in merged["benchmarks"]] == ["test_tiny"]
    assert merged["machine_info"]["tf2bench"]["processes"] == 2
    assert merged["machine_info"]["tf2bench"]["process_mode"] == "selection"
    stored = list((tmp_path / ".benchmarks").glob("*/0001_*.json"))
    assert len(stored) == 1
    assert json.loads(stored[0].read_text())["benchmarks"][0]["stats"]["data"]
    assert result.stdout.count("done in") == 2
    # pytest-benchmark compares a new run against the stored one.
    compared = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:tf2bench", "-p", "no:cacheprovider",
         "benchmarks", "-k", "tiny", "--benchmark-only", "--benchmark-compare=0001",
         "--benchmark-compare-fail=min:10000%"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert compared.returncode == 0, compared.stdout[-2000:]
    assert "0001_" in compared.stdout and "NOW" in compared.stdout


@pytest.mark.slow
def test_pytest_benchmark_autosave_keeps_the_raw_samples(pytester):
    pytester.makepyfile(test_small="def test_tiny(benchmark):\n    benchmark(sum, range(100))\n")
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--benchmark-autosave", "--benchmark-max-time=0.01"
    )
    assert result.ret == 0
    (saved,) = pytester.path.glob(".benchmarks/*/0001_*.json")
    assert json.loads(saved.read_text())["benchmarks"][0]["stats"]["data"]
