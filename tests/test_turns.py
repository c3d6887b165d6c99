"""Paired turns (harness/turns.py): one worker runs at a time, in step, and pins its CPU."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tf2bench.errors import MeasurementError, UsageError
from tf2bench.harness.turns import (
    CPUS_ENV,
    MAX_ROUNDS,
    TURNS_ENV,
    Referee,
    Turns,
    pin_to,
    rounds_for,
)

ROOT = Path(__file__).resolve().parents[1]

# A stand-in for a pytest process: `tests` tests of `slices` turns each; it logs when each of
# its turns ran (CLOCK_MONOTONIC is one clock for all processes).
WORKER = textwrap.dedent(
    """
    import json, sys, time
    from tf2bench.harness.turns import Turns

    out, tests, slices = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    turns = Turns.from_environ(slice_s=0.0)
    spans = []
    for test in range(tests):
        turns.next_test()
        for _ in range(slices):
            start = time.monotonic()
            time.sleep(0.002)
            spans.append([turns.test, start, time.monotonic()])
            turns.between_rounds()
    turns.finish()
    json.dump(spans, open(out, "w"))
    """
)


def start_worker(referee: Referee, tmp_path: Path, name: str, tests: int, slices: int):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = tmp_path / f"{name}.json"
    referee.start(
        [sys.executable, str(script), str(out), str(tests), str(slices)], env=env, label=name
    )
    return out


def test_two_workers_never_run_at_once_and_stay_on_the_same_test(tmp_path):
    referee = Referee()
    outputs = [start_worker(referee, tmp_path, name, 4, 5) for name in ("base", "head")]
    referee.run()
    assert [worker.process.wait() for worker in referee.workers] == [0, 0]
    assert referee.paired
    spans = sorted(
        (start, end, name, test)
        for name, path in zip(("base", "head"), outputs, strict=True)
        for test, start, end in json.loads(path.read_text())
    )
    assert len(spans) == 40
    for (_, end, *_), (start, *_) in zip(spans, spans[1:], strict=False):
        assert end <= start  # never two at once
    # Every slice hands over, so the order alternates, and both are on the same test.
    names = [name for _, _, name, _ in spans]
    assert all(a != b for a, b in zip(names, names[1:], strict=False)), names
    tests = [test for *_, test in spans]
    assert tests == sorted(tests)


def test_the_worker_behind_in_test_order_goes_first(tmp_path):
    referee = Referee()
    fast = start_worker(referee, tmp_path, "fast", 3, 1)
    slow = start_worker(referee, tmp_path, "slow", 3, 4)
    referee.run()
    spans = sorted(
        (start, name, test)
        for name, path in (("fast", fast), ("slow", slow))
        for test, start, _ in json.loads(path.read_text())
    )
    # "fast" never starts test k+1 while "slow" still has slices of test k to run.
    for index, (_, name, test) in enumerate(spans):
        if name == "fast":
            later_slow = [t for _, n, t in spans[index + 1 :] if n == "slow"]
            assert all(t >= test for t in later_slow), spans


def test_a_worker_without_turns_runs_on_its_own_and_the_pair_is_not_paired(tmp_path):
    referee = Referee()
    taking = start_worker(referee, tmp_path, "taking", 2, 2)
    plain = tmp_path / "plain.py"
    plain.write_text("import time; time.sleep(0.3)\n")
    referee.start([sys.executable, str(plain)], env=dict(os.environ), label="plain")
    referee.run()
    assert [worker.process.wait() for worker in referee.workers] == [0, 0]
    assert not referee.paired
    assert len(json.loads(taking.read_text())) == 4


def test_a_worker_whose_referee_went_away_stops_with_one_line():
    read_end, write_end = os.pipe()
    want_read, want_write = os.pipe()
    os.close(write_end)  # the referee is gone: reading the turn gives end of file
    turns = Turns(read_end, want_write)
    with pytest.raises(MeasurementError, match="referee went away"):
        turns.next_test()
    for fd in (read_end, want_read, want_write):
        os.close(fd)


def test_turns_from_a_malformed_environment_is_a_one_line_error():
    assert Turns.from_environ({}) is None
    with pytest.raises(UsageError, match=f"{TURNS_ENV}='3'.*expected '<read fd>,<write fd>'"):
        Turns.from_environ({TURNS_ENV: "3"})
    with pytest.raises(UsageError, match="of open pipes"):
        Turns.from_environ({TURNS_ENV: "998,999"})


def test_pinning_sets_the_affinity_and_refuses_cpus_it_may_not_use():
    allowed = sorted(os.sched_getaffinity(0))
    code = (
        "import os; from tf2bench.harness.turns import pin_to; "
        "print(sorted(pin_to()), sorted(os.sched_getaffinity(0)))"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), CPUS_ENV: str(allowed[-1])}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.split() == [f"[{allowed[-1]}]", f"[{allowed[-1]}]"], out.stderr
    assert pin_to({}) is None
    with pytest.raises(UsageError, match=f"{CPUS_ENV}='4096'.*expected CPU numbers"):
        pin_to({CPUS_ENV: "4096"})
    with pytest.raises(UsageError, match="expected CPU numbers"):
        pin_to({CPUS_ENV: "one"})


def test_paired_rounds_follow_pytest_benchmarks_rule():
    assert rounds_for(0.01, 1.0, 5) == 100
    assert rounds_for(0.5, 1.0, 5) == 5  # at least min_rounds
    assert rounds_for(1e-7, 1.0, 5) == MAX_ROUNDS
    assert rounds_for(0.0, 1.0, 5) == 5


def test_between_rounds_hands_over_only_after_a_slice():
    now = [0.0]
    calls = []
    turns = Turns(-1, -1, slice_s=0.02, clock=lambda: now[0])
    turns.take = lambda: calls.append(now[0]) or setattr(turns, "_held_since", now[0])
    turns.between_rounds()  # no turn held yet
    now[0] = 0.01
    turns.between_rounds()
    now[0] = 0.025
    turns.between_rounds()
    assert calls == [0.0, 0.025]
