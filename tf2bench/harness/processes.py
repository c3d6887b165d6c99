"""N fresh pytest processes per run: the plan, one process, the merged result.

A process is `python -m pytest benchmarks --benchmark-only --benchmark-json=TMP ...` in a code
tree. Plugins are named explicitly (`-p`) with autoload off, so the tree's `tf2bench` on
PYTHONPATH is the one measured even when another tf2bench is installed in the interpreter.
No TensorFlow in this process: each child imports it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tf2bench.errors import MeasurementError, UsageError
from tf2bench.records.merge import PROCESS_MODES, merge_documents

__all__ = [
    "DEFAULT_PROCESSES",
    "Process",
    "Tree",
    "busy_warning",
    "collect_ids",
    "default_processes",
    "plan_processes",
    "read_process_results",
    "run_process",
    "run_repeated",
    "say",
    "terminate_on_signals",
]

# Processes per preset: enough for a between-process spread, within the time budget.
DEFAULT_PROCESSES = {"quick": 5, "standard": 3, "full": 3}
DEFAULT_MODE = "selection"
PLUGINS = ("-p", "pytest_benchmark.plugin", "-p", "tf2bench.pytest_plugin")


@dataclass(frozen=True)
class Tree:
    """A code tree to measure: its folder and the interpreter that runs it."""

    root: Path
    python: str = sys.executable
    label: str = "run"
    env: dict[str, str] = field(default_factory=dict)

    def environ(self) -> dict[str, str]:
        env = {**os.environ, **self.env}
        env["PYTHONPATH"] = os.pathsep.join(
            part for part in (str(self.root), os.environ.get("PYTHONPATH")) if part
        )
        env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        return env


@dataclass(frozen=True)
class Process:
    """One planned process: its index (1-based) and the node ids it runs (empty: all)."""

    index: int
    node_ids: tuple[str, ...] = ()


def say(line: str) -> None:
    """A progress line, flushed so it lands between the children's output."""
    print(line, flush=True)


def default_processes(preset: str) -> int:
    return DEFAULT_PROCESSES.get(preset, 3)


def pytest_command(tree: Tree, json_path: Path, args: Sequence[str], node_ids=()) -> list[str]:
    targets = list(node_ids) or ["benchmarks"]
    return [
        tree.python,
        "-m",
        "pytest",
        *PLUGINS,
        "-p",
        "no:cacheprovider",
        *targets,
        "--benchmark-only",
        f"--benchmark-json={json_path}",
        *args,
    ]


def collect_ids(tree: Tree, args: Sequence[str]) -> list[str]:
    """The node ids of the selected benchmarks (for one process per benchmark)."""
    command = [tree.python, "-m", "pytest", *PLUGINS, "-p", "no:cacheprovider", "benchmarks"]
    completed = subprocess.run(
        # The absolute verbosity last: a -q among the user's args would change the listing.
        [*command, "--benchmark-only", *args, "--collect-only", "--verbosity=-1"],
        cwd=tree.root,
        env=tree.environ(),
        capture_output=True,
        text=True,
    )
    ids = [line for line in completed.stdout.splitlines() if "::" in line]
    if completed.returncode != 0 or not ids:
        last = (completed.stderr or completed.stdout).strip().splitlines()[-1:] or ["no output"]
        raise UsageError(f"{tree.label}: selected no benchmark ({last[0]})")
    return ids


def plan_processes(processes: int, mode: str, ids: Sequence[str] = ()) -> list[Process]:
    """selection: N processes each running everything; benchmark: N per benchmark, rotating."""
    if processes < 1:
        raise UsageError(f"Received --processes {processes}, expected a positive integer")
    if mode not in PROCESS_MODES:
        raise UsageError(f"Received process mode {mode!r}, expected one of {PROCESS_MODES}")
    if mode == "selection":
        return [Process(index) for index in range(1, processes + 1)]
    return [Process(index, (node,)) for index in range(1, processes + 1) for node in ids]


def run_process(
    tree: Tree, process: Process, args: Sequence[str], workdir: Path, log: Path | None = None
) -> dict[str, Any]:
    """Runs one pytest process; returns its JSON document.

    Raises:
        MeasurementError: pytest failed or wrote no results (one line, naming the log).
    """
    prefix = f"{tree.label}-{process.index}-"
    handle, name = tempfile.mkstemp(prefix=prefix, suffix=".json", dir=workdir)
    os.close(handle)
    json_path = Path(name)
    command = pytest_command(tree, json_path, args, process.node_ids)
    output = log.open("a", encoding="utf-8") if log else None
    try:
        completed = subprocess.run(
            command, cwd=tree.root, env=tree.environ(), stdout=output, stderr=output
        )
    finally:
        if output:
            output.close()
    return read_process_results(
        f"{tree.label} process {process.index}", completed.returncode, json_path, log
    )


def read_process_results(
    name: str, returncode: int, json_path: Path, log: Path | None
) -> dict[str, Any]:
    """The JSON document a finished pytest process wrote.

    Raises:
        MeasurementError: pytest failed or wrote no results (one line, naming the log).
    """
    where = f" (log: {log})" if log else ""
    if returncode != 0:
        raise MeasurementError(f"{name}: pytest exited {returncode}, expected 0{where}")
    try:
        return json.loads(json_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise MeasurementError(f"{name}: wrote no results JSON{where}") from None


def run_repeated(
    tree: Tree,
    plan: Sequence[Process],
    args: Sequence[str],
    workdir: Path,
    *,
    mode: str,
    log: Path | None = None,
    progress: Callable[[str], None] = say,
) -> dict[str, Any]:
    """Runs the plan one process after another and returns the merged document."""
    documents = []
    for number, process in enumerate(plan, 1):
        start = time.perf_counter()
        documents.append((process.index, run_process(tree, process, args, workdir, log)))
        progress(
            f"{tree.label}: process {number}/{len(plan)} done in "
            f"{time.perf_counter() - start:.0f} s"
        )
    return merge_documents(documents, mode=mode, processes=max(p.index for p in plan))


def busy_warning() -> str | None:
    """One line when the machine is busy (1-min load > half the cores, or runnable > cores)."""
    from tf2bench.harness.environment import collect_machine_state

    state = collect_machine_state()
    cores = os.cpu_count() or 1
    load, runnable = state.get("load_avg"), state.get("runnable")
    busy = (load is not None and load[0] > 0.5 * cores) or (
        runnable is not None and runnable > cores
    )
    if not busy:
        return None
    return (
        f"tf2bench: warning: the machine is busy (1-min load {load and load[0]:.2f}, "
        f"{runnable} runnable, {cores} cores); timings will be noisier"
    )


@contextmanager
def terminate_on_signals() -> Iterator[None]:
    """SIGTERM raises KeyboardInterrupt here, so `finally` blocks clean up as on Ctrl-C."""

    def handler(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
