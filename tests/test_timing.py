"""The timing helpers and the Harness protocol, driven by an injected fake clock."""

from __future__ import annotations

import pytest

from tf2bench.errors import MeasurementError, RetraceError
from tf2bench.harness.timing import (
    Clock,
    WarmupPolicy,
    check_no_retrace,
    first_call,
    synced,
    tracing_counts,
    warm_up,
)


class FakeTraced:
    """Stands in for a tf.function: its tracing count follows a script, one entry per call."""

    def __init__(self, counts_after_each_call: list[int]) -> None:
        self.script = list(counts_after_each_call)
        self.calls = 0

    def experimental_get_tracing_count(self) -> int:
        if self.calls == 0:
            return 0
        return self.script[min(self.calls, len(self.script)) - 1]

    def __call__(self) -> str:
        self.calls += 1
        return "out"


def test_clock_syncs_before_reading(fake_clock):
    events = []
    clock = Clock(
        now=lambda: events.append("read") or fake_clock(), sync=lambda: events.append("sync")
    )
    clock.read()
    assert events == ["sync", "read"]


def test_clock_without_sync_only_reads(fake_clock):
    clock = Clock(now=fake_clock)
    assert clock.read() == 0.5
    assert fake_clock.reads == 1


def test_first_call_is_the_difference_of_two_reads(fake_clock):
    fake_clock.step = 0.25
    output, seconds = first_call(lambda: 42, Clock(now=fake_clock))
    assert output == 42
    assert seconds == pytest.approx(0.25)


def test_synced_call_syncs_after_every_call():
    events = []
    call = synced(lambda x: events.append(f"run {x}"), (7,), lambda: events.append("sync"))
    call()
    call()
    assert events == ["run 7", "sync", "run 7", "sync"]


def test_synced_call_without_sync_runs_only_the_function():
    events = []
    synced(lambda: events.append("run"), (), None)()
    assert events == ["run"]


def test_warm_up_stops_once_tracing_is_stable(fake_clock):
    # Traces on the first and second call (variables, then shapes), stable afterwards.
    fn = FakeTraced([1, 2, 2, 2, 2, 2])
    result = warm_up(
        fn, {"step": fn}, Clock(now=fake_clock), WarmupPolicy(min_calls=2, settle_calls=2)
    )
    assert fn.calls == 4  # call 2 changed the count, calls 3 and 4 were stable
    assert result.calls == 4
    assert result.seconds == pytest.approx(fake_clock.step * (4 + 1))


def test_warm_up_without_traced_functions_does_the_minimum(fake_clock):
    calls = []
    result = warm_up(lambda: calls.append(1), {}, Clock(now=fake_clock), WarmupPolicy(min_calls=3))
    assert result.calls == 3 and len(calls) == 3


def test_warm_up_fails_when_tracing_never_settles(fake_clock):
    fn = FakeTraced(list(range(1, 100)))
    with pytest.raises(MeasurementError, match="tracing did not settle.*after 5 calls"):
        warm_up(fn, {"step": fn}, Clock(now=fake_clock), WarmupPolicy(max_calls=5, max_seconds=1e9))


def test_warm_up_is_bounded_in_time(fake_clock):
    fake_clock.step = 10.0
    fn = FakeTraced(list(range(1, 100)))
    with pytest.raises(MeasurementError, match="still tracing"):
        warm_up(
            fn, {"step": fn}, Clock(now=fake_clock), WarmupPolicy(max_calls=1000, max_seconds=25.0)
        )
    assert fn.calls == 3  # elapsed 10, 20, then 30 s >= 25 s


def test_tracing_counts_reads_every_function():
    a, b = FakeTraced([3]), FakeTraced([5])
    a(), b()
    assert tracing_counts({"a": a, "b": b}) == {"a": 3, "b": 5}


def test_retrace_check_names_the_function_and_counts():
    with pytest.raises(RetraceError) as error:
        check_no_retrace({"train_step": 1, "other": 2}, {"train_step": 3, "other": 2})
    message = str(error.value)
    assert "'train_step'" in message and "1 before, 3 after" in message
    assert "other" not in message
    assert "\n" not in message


def test_retrace_check_passes_unchanged_counts():
    check_no_retrace({"train_step": 1}, {"train_step": 1})
