"""Consumer-side pipeline timing on a fake clock: first batch, input-bound fraction, ratios."""

from __future__ import annotations

import pytest

from tf2bench.errors import MeasurementError, UsageError
from tf2bench.harness.consumer import (
    BatchPuller,
    ConsumerLoop,
    RatioToLimit,
    input_bound_fraction,
    steady_throughput,
)
from tf2bench.harness.timing import Clock
from tf2bench.records.schema import BenchRecord


class ManualClock:
    """Time moves only when the fake work says so; reading it costs nothing."""

    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


class SlowIterator:
    """An iterator whose creation and first item take `start_s` (a shuffle buffer filling) and
    every later item `item_s`."""

    def __init__(self, clock: ManualClock, start_s: float, item_s: float) -> None:
        self.clock, self.item_s, self.count = clock, item_s, 0
        clock.advance(start_s)

    def __iter__(self):
        return self

    def __next__(self) -> tuple[int, int]:
        if self.count:
            self.clock.advance(self.item_s)
        self.count += 1
        return (self.count, self.count)


def test_first_batch_is_timed_apart_from_the_rounds():
    manual = ManualClock()
    clock = Clock(now=manual)
    puller = BatchPuller(lambda: SlowIterator(manual, start_s=5.0, item_s=0.25), 4, clock)
    first, first_s = puller.open()
    assert first == (1, 1) and first_s == 5.0
    before = manual.t
    assert puller() == (5, 5)  # batches 2..5 of the same iterator: no second start-up
    assert manual.t - before == pytest.approx(4 * 0.25)


def test_pulling_before_open_is_refused():
    with pytest.raises(UsageError, match="open"):
        BatchPuller(lambda: iter(()), 1)()


@pytest.mark.parametrize(("wait_s", "step_s", "expected"), [(3.0, 1.0, 0.75), (0.0, 2.0, 0.0)])
def test_input_bound_fraction_on_a_constructed_loop(wait_s, step_s, expected):
    manual = ManualClock()
    clock = Clock(now=manual)
    iterator = SlowIterator(manual, start_s=0.0, item_s=wait_s)
    next(iterator)  # opened: later batches each take wait_s

    def step(images, labels):
        manual.advance(step_s)
        return images

    loop = ConsumerLoop(iterator.__next__, step, steps_per_call=3, clock=clock)
    loop()  # warm-up rounds are not counted once start() resets the sums
    loop.start()
    assert loop() == 7  # batches 5, 6, 7: the step returns its first argument
    loop()
    assert loop.wait_s == pytest.approx(6 * wait_s)
    assert loop.total_s == pytest.approx(6 * (wait_s + step_s))
    assert loop.stop() == {"input_bound_fraction": pytest.approx(expected)}


@pytest.mark.parametrize(("wait_s", "total_s"), [(1.0, 0.0), (-0.1, 1.0), (2.0, 1.0)])
def test_inconsistent_times_are_refused(wait_s, total_s):
    with pytest.raises(MeasurementError, match="0 <= wait <= total"):
        input_bound_fraction(wait_s, total_s)


def test_ratio_to_limit_and_batches_per_second():
    record = BenchRecord(family="input_pipeline", workload="pipeline", throughput_per_s=500.0)
    assert RatioToLimit(lambda: 2000.0, 4)(None, record, "name") == {
        "batches_per_s": 125.0,
        "ratio_to_limit": 0.25,
    }
    assert RatioToLimit(None, 4)(None, record, "name") == {"batches_per_s": 125.0}
    smoke = BenchRecord(family="input_pipeline", workload="pipeline")
    assert RatioToLimit(lambda: 1.0, 4)(None, smoke, "name") == {}


def test_steady_throughput_takes_the_median_round():
    manual = ManualClock()
    durations = iter([9.0, 0.5, 0.4, 0.6, 5.0, 0.5, 0.5])  # a warm-up round, then timed ones

    def call():
        manual.advance(next(durations))

    rate = steady_throughput(call, 100, Clock(now=manual), min_rounds=5, min_seconds=1.0)
    assert rate == pytest.approx(100 / 0.5)


@pytest.mark.parametrize("bad", [0, -2, True, 1.5])
def test_counts_must_be_positive_integers(bad):
    with pytest.raises(UsageError, match="positive integer"):
        BatchPuller(lambda: iter(()), bad)
    with pytest.raises(UsageError, match="positive integer"):
        ConsumerLoop(lambda: (), lambda: None, bad)
