"""Timing around pytest-benchmark: cold first call, warm-up until tracing settles, retrace guard.

Nothing here imports TensorFlow: traced functions are anything with
``experimental_get_tracing_count()`` and device sync is a callable, so the logic is tested
with an injected fake clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from tf2bench.errors import MeasurementError, RetraceError

__all__ = [
    "Clock",
    "Traced",
    "DEFAULT_WARMUP",
    "WarmupPolicy",
    "WarmupResult",
    "check_no_retrace",
    "first_call",
    "synced",
    "tracing_counts",
    "warm_up",
]


class Traced(Protocol):
    def experimental_get_tracing_count(self) -> int: ...


@dataclass(frozen=True)
class Clock:
    """Reads the time after synchronising the device, so queued GPU work is counted.

    Attributes:
        now: monotonic seconds; `time.perf_counter` unless a test injects a fake.
        sync: blocks until the device is idle (`tf.test.experimental.sync_devices` on a GPU);
            None on CPU, where eager ops and tf.function calls return only when done.
    """

    now: Callable[[], float] = time.perf_counter
    sync: Callable[[], None] | None = None

    def read(self) -> float:
        if self.sync is not None:
            self.sync()
        return self.now()


def synced(
    fn: Callable[..., Any], args: tuple, sync: Callable[[], None] | None
) -> Callable[[], Any]:
    """A zero-argument call of `fn(*args)` that ends with a device sync when there is one.

    pytest-benchmark reads its clock around each round; syncing inside the call puts the end of
    the device work inside the round, which is what a device sync at round boundaries means.
    """
    if sync is None:
        return lambda: fn(*args)

    def call_and_sync() -> Any:
        output = fn(*args)
        sync()
        return output

    return call_and_sync


def first_call(call: Callable[[], Any], clock: Clock) -> tuple[Any, float]:
    """Times the first call (tracing + compilation + first run).

    Returns:
        (the call's output, wall seconds from before the call until the device is idle).
    """
    start = clock.read()
    output = call()
    return output, clock.read() - start


def tracing_counts(traced: Mapping[str, Traced]) -> dict[str, int]:
    """The current tracing count of each named tf.function."""
    return {name: int(fn.experimental_get_tracing_count()) for name, fn in traced.items()}


def check_no_retrace(before: Mapping[str, int], after: Mapping[str, int]) -> None:
    """Raises RetraceError naming every function whose tracing count moved between two snapshots."""
    moved = [
        f"tf.function {name!r} traced {after[name] - before[name]} more time(s) "
        f"(tracing count {before[name]} before, {after[name]} after)"
        for name in before
        if after.get(name, before[name]) != before[name]
    ]
    if moved:
        raise RetraceError(
            "retrace inside the timed rounds invalidates the benchmark: " + "; ".join(moved)
        )


@dataclass(frozen=True)
class WarmupPolicy:
    """When warm-up may stop: tracing counts unchanged for `settle_calls` consecutive calls.

    pytest-benchmark does no warm-up on CPython; tf.function may trace again on the second call
    (for example when variables are created on the first), so warm-up watches the counts.
    """

    min_calls: int = 2
    settle_calls: int = 2
    max_calls: int = 50
    max_seconds: float = 20.0


DEFAULT_WARMUP = WarmupPolicy()


@dataclass(frozen=True)
class WarmupResult:
    calls: int
    seconds: float


def warm_up(
    call: Callable[[], Any],
    traced: Mapping[str, Traced],
    clock: Clock,
    policy: WarmupPolicy = DEFAULT_WARMUP,
) -> WarmupResult:
    """Calls `call` until every tracing count has been stable for `policy.settle_calls` calls.

    Raises:
        MeasurementError: tracing did not settle within `policy.max_calls` calls or
            `policy.max_seconds` seconds; timing such a function would time tracing.
    """
    start = clock.read()
    counts = tracing_counts(traced)
    calls = stable = 0
    while calls < policy.min_calls or stable < policy.settle_calls:
        call()
        calls += 1
        now_counts = tracing_counts(traced)
        stable = stable + 1 if now_counts == counts else 0
        counts = now_counts
        elapsed = clock.read() - start
        if stable < policy.settle_calls and (
            calls >= policy.max_calls or elapsed >= policy.max_seconds
        ):
            raise MeasurementError(
                f"tracing did not settle during warm-up: still tracing after {calls} calls "
                f"({elapsed:.1f} s); counts now {counts}"
            )
    return WarmupResult(calls=calls, seconds=clock.read() - start)
