"""Base and head processes of `tf2bench ab`: alternating whole processes, or CPU-sharing pairs.

A pair is a base and a head process pinned to one CPU that hand it to each other every few
milliseconds (harness/turns.py), so the machine's drift hits both alike; pairs run side by
side, one per CPU.
"""

from __future__ import annotations

import os
from itertools import zip_longest
from pathlib import Path

from tf2bench.harness.processes import say

__all__ = ["measure_alternately", "measure_in_pairs"]


def measure_alternately(sides, processes, mode, pytest_args, work):
    from tf2bench.harness.processes import collect_ids, plan_processes, run_process
    from tf2bench.records.merge import merge_documents

    plans = {
        side: plan_processes(
            processes, mode, collect_ids(tree, pytest_args) if mode == "benchmark" else ()
        )
        for side, (tree, _) in sides.items()
    }
    documents = {side: [] for side in sides}
    for pair in zip_longest(plans["base"], plans["head"]):
        for side, process in zip(("base", "head"), pair, strict=True):
            if process is None:
                continue
            tree, log = sides[side]
            document = run_process(tree, process, pytest_args, Path(work), log)
            documents[side].append((process.index, document))
            say(f"{side}: process {len(documents[side])}/{len(plans[side])} done")
    return {
        side: merge_documents(pairs, mode=mode, processes=processes)
        for side, pairs in documents.items()
    }


def measure_in_pairs(sides, pairs, pytest_args, work, node_ids=()):
    """`pairs` base/head pairs, each pinned to one CPU and taking turns; one pair per CPU at once.

    Returns ({side: merged document}, whether every process took turns). Pair i starts base
    first when i is odd and head first when even, so neither side always leads.
    """
    import threading
    import uuid

    from tf2bench.errors import MeasurementError
    from tf2bench.records.merge import merge_documents

    cpus = sorted(os.sched_getaffinity(0))
    token = uuid.uuid4().hex
    documents = {side: [] for side in sides}
    outcomes = {}  # pair index -> True (paired) / False (ran alone) / exception
    running = []  # every process started, so an interrupt can stop them all

    def run_slot(cpu: int, indexes: list[int]) -> None:
        for index in indexes:
            try:
                pair = _run_pair(sides, index, cpu, pytest_args, Path(work), running, node_ids)
            except BaseException as error:  # reported by the main thread
                outcomes[index] = error
                return
            for side, document in pair.documents.items():
                documents[side].append((index, document))
            outcomes[index] = pair.paired
            say(f"pair {index}/{pairs} done on CPU {cpu} ({pair.seconds:.0f} s)")

    slots = {cpu: list(range(1 + n, pairs + 1, len(cpus))) for n, cpu in enumerate(cpus)}
    threads = [
        threading.Thread(target=run_slot, args=(cpu, indexes), daemon=True)
        for cpu, indexes in slots.items()
        if indexes
    ]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            while thread.is_alive():
                thread.join(0.5)  # short joins keep SIGINT/SIGTERM deliverable
    except BaseException:
        for process in running:
            if process.poll() is None:
                process.kill()
        raise
    failures = [value for value in outcomes.values() if isinstance(value, BaseException)]
    if failures:
        if isinstance(failures[0], MeasurementError):
            raise failures[0]
        raise MeasurementError(f"a pair of processes failed: {failures[0]}") from failures[0]
    paired = all(outcomes.values())
    merged = {
        side: merge_documents(
            pairs_of_side, mode="selection", processes=pairs, pairing=token if paired else None
        )
        for side, pairs_of_side in documents.items()
    }
    return merged, paired


class _Pair:
    def __init__(self, documents, paired, seconds):
        self.documents, self.paired, self.seconds = documents, paired, seconds


def _run_pair(sides, index, cpu, pytest_args, work, running, node_ids=()):
    """One base and one head process on `cpu`, taking turns; raises MeasurementError."""
    import tempfile
    import time

    from tf2bench.harness.processes import pytest_command, read_process_results
    from tf2bench.harness.turns import CPUS_ENV, Referee

    order = ("base", "head") if index % 2 else ("head", "base")
    referee = Referee()
    started, logs, paths = [], [], {}
    start = time.perf_counter()
    try:
        for side in order:
            tree, log = sides[side]
            handle, name = tempfile.mkstemp(prefix=f"{side}-{index}-", suffix=".json", dir=work)
            os.close(handle)
            paths[side] = Path(name)
            output = log.open("a", encoding="utf-8")
            logs.append(output)
            process = referee.start(
                pytest_command(tree, paths[side], pytest_args, node_ids),
                env={**tree.environ(), CPUS_ENV: str(cpu)},
                label=side,
                cwd=tree.root,
                stdout=output,
                stderr=output,
            )
            started.append((side, process))
            running.append(process)
        referee.run()
    finally:
        for _, process in started:
            if process.poll() is None:
                process.kill()
            process.wait()
        for output in logs:
            output.close()
    documents = {
        side: read_process_results(
            f"{side} process {index}", process.returncode, paths[side], sides[side][1]
        )
        for side, process in started
    }
    return _Pair(documents, referee.paired, time.perf_counter() - start)
