"""A pipeline timed from its consumer's side: first batch, steady pulls, input-bound fraction.

Nothing here imports TensorFlow: iterators are any Python iterators and steps any callables,
so the logic is tested with an injected fake clock (see `timing.Clock`).

    BatchPuller.open()   iterator creation + first batch, timed alone (fills shuffle buffers)
    BatchPuller()        one timed round: the next `batches_per_call` batches, same iterator
    ConsumerLoop()       one timed round: `steps_per_call` x (wait for a batch, run the step)
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterator
from typing import Any

from tf2bench.errors import MeasurementError, UsageError
from tf2bench.harness.timing import Clock

__all__ = [
    "BatchPuller",
    "ConsumerLoop",
    "RatioToLimit",
    "input_bound_fraction",
    "steady_throughput",
]


def _expect_positive(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise UsageError(
            f"Received an invalid `{name}`, expected a positive integer. Received: {name}={value!r}"
        )


def input_bound_fraction(wait_s: float, total_s: float) -> float:
    """Time spent waiting for the next batch over the total step time, in [0, 1].

    Args:
        wait_s: seconds blocked in `next()` on the input iterator.
        total_s: seconds of whole steps (waiting for input + running the step).

    Raises:
        MeasurementError: the times are inconsistent (negative, or waiting longer than the total).
    """
    if total_s <= 0 or wait_s < 0 or wait_s > total_s:
        raise MeasurementError(
            "input-bound fraction needs 0 <= wait <= total and total > 0; "
            f"received wait={wait_s!r} s, total={total_s!r} s"
        )
    return wait_s / total_s


class BatchPuller:
    """Pulls batches from one persistent iterator, so timed rounds never pay its start-up.

    Args:
        make_iterator: creates the iterator (for a tf.data pipeline, `lambda: iter(dataset)`); it
            must never run dry (a repeated dataset).
        batches_per_call: batches one call pulls, i.e. one pytest-benchmark round.
        clock: reads the time for `open`.
    """

    def __init__(
        self,
        make_iterator: Callable[[], Iterator[Any]],
        batches_per_call: int,
        clock: Clock | None = None,
    ) -> None:
        _expect_positive("batches_per_call", batches_per_call)
        self.make_iterator = make_iterator
        self.batches_per_call = batches_per_call
        self.clock = clock or Clock()
        self._iterator: Iterator[Any] | None = None

    def open(self) -> tuple[Any, float]:
        """Creates the iterator and takes its first batch.

        Returns:
            (the first batch, seconds from before the iterator's creation to the first batch).
        """
        start = self.clock.read()
        self._iterator = self.make_iterator()
        first = next(self._iterator)
        return first, self.clock.read() - start

    def next(self) -> Any:
        """The next batch of the open iterator."""
        if self._iterator is None:
            raise UsageError("Received a pull before open(), expected BatchPuller.open() first")
        return next(self._iterator)

    def __call__(self) -> Any:
        """Pulls `batches_per_call` batches; returns the last."""
        batch = None
        for _ in range(self.batches_per_call):
            batch = self.next()
        return batch


class ConsumerLoop:
    """A training loop's rounds: each call feeds `steps_per_call` batches to `step`.

    It adds up the time blocked waiting for the next batch and the whole time of the steps, and
    is a harness Probe: `start()` resets the sums before the timed rounds, `stop()` returns the
    input-bound fraction over exactly those rounds.

    Args:
        next_batch: returns the next batch (a tuple, passed to `step` unpacked).
        step: the consumer's work on one batch; on a GPU the clock's sync waits for it.
        steps_per_call: steps per call, i.e. per pytest-benchmark round.
        clock: reads the time around every wait and step.
    """

    def __init__(
        self,
        next_batch: Callable[[], Any],
        step: Callable[..., Any],
        steps_per_call: int,
        clock: Clock | None = None,
    ) -> None:
        _expect_positive("steps_per_call", steps_per_call)
        self.next_batch = next_batch
        self.step = step
        self.steps_per_call = steps_per_call
        self.clock = clock or Clock()
        self.wait_s = 0.0
        self.total_s = 0.0

    def __call__(self) -> Any:
        """Runs `steps_per_call` steps; returns the last step's output."""
        output = None
        start = before = self.clock.read()
        for _ in range(self.steps_per_call):
            batch = self.next_batch()
            got = self.clock.read()
            output = self.step(*batch)
            self.wait_s += got - before
            before = self.clock.read()
        self.total_s += before - start
        return output

    def start(self) -> None:
        self.wait_s = self.total_s = 0.0

    def stop(self) -> dict[str, float]:
        return {"input_bound_fraction": input_bound_fraction(self.wait_s, self.total_s)}


class RatioToLimit:
    """A harness after-hook: the benchmark's throughput over the limit's, and batches per second.

    Args:
        limit_per_s: returns the limit's throughput in elements/s for the same batch size (a
            session cache that measures it on first use); None for the limit itself.
        batch_size: elements per batch.
    """

    def __init__(self, limit_per_s: Callable[[], float] | None, batch_size: int) -> None:
        _expect_positive("batch_size", batch_size)
        self.limit_per_s = limit_per_s
        self.batch_size = batch_size

    def __call__(self, call: Any, record: Any, name: str) -> dict[str, float]:
        throughput = record.throughput_per_s
        if throughput is None:
            return {}
        metrics = {"batches_per_s": throughput / self.batch_size}
        if self.limit_per_s is not None:
            metrics["ratio_to_limit"] = throughput / self.limit_per_s()
        return metrics


def steady_throughput(
    call: Callable[[], Any],
    items_per_call: float,
    clock: Clock | None = None,
    *,
    min_rounds: int = 5,
    min_seconds: float = 0.2,
    warmup_rounds: int = 1,
) -> float:
    """Items per second of `call` in the steady state, for numbers measured outside a benchmark.

    Runs `warmup_rounds` untimed calls, then times calls one by one until both `min_rounds` and
    `min_seconds` are reached.

    Returns:
        items_per_call over the median call time, in items/s.
    """
    _expect_positive("min_rounds", min_rounds)
    clock = clock or Clock()
    for _ in range(warmup_rounds):
        call()
    times: list[float] = []
    while len(times) < min_rounds or sum(times) < min_seconds:
        start = clock.read()
        call()
        times.append(clock.read() - start)
    median = statistics.median(times)
    if median <= 0:
        raise MeasurementError(f"a call took no measurable time (median {median!r} s)")
    return items_per_call / median
