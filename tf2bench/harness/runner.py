"""The measurement protocol around pytest-benchmark's fixture, used by every benchmark.

    first call (timed, recorded) -> equivalence check -> warm-up until tracing settles
    -> tracing counts -> probes start -> timed rounds (pytest-benchmark) -> probes stop
    -> tracing counts (a retrace fails the benchmark) -> extra_info['tf2bench'] -> after-hooks

After-hooks (profiling) run outside the timed rounds, never fail the measurement.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import pytest

from tf2bench.errors import MeasurementError
from tf2bench.harness.devices import Device
from tf2bench.harness.timing import (
    DEFAULT_WARMUP,
    Clock,
    Traced,
    WarmupPolicy,
    check_no_retrace,
    first_call,
    synced,
    tracing_counts,
    warm_up,
)
from tf2bench.records.schema import BLOCK_KEY, BenchRecord

__all__ = ["AfterHook", "Harness", "Probe"]

log = logging.getLogger(__name__)


class Probe(Protocol):
    """Observes the timed rounds (for example peak memory); returns metrics named in the schema."""

    def start(self) -> None: ...

    def stop(self) -> dict[str, float]: ...


class AfterHook(Protocol):
    """Runs after the timed rounds (for example a profile capture); returns metrics or {}."""

    def __call__(
        self, call: Callable[[], Any], record: BenchRecord, name: str
    ) -> dict[str, float]: ...


class Harness:
    """Times a zero-argument call on one device with pytest-benchmark and records the result."""

    def __init__(
        self,
        benchmark: Any,
        device: Device,
        preset: str,
        *,
        clock: Clock | None = None,
        warmup: WarmupPolicy = DEFAULT_WARMUP,
        probes: Sequence[Probe] = (),
        after_hooks: Sequence[AfterHook] = (),
    ) -> None:
        self.benchmark = benchmark
        self.device = device
        self.preset = preset
        self.clock = clock or Clock(sync=device.sync)
        self.warmup = warmup
        self.probes = tuple(probes)
        self.after_hooks = tuple(after_hooks)

    def with_extra(
        self, *, probes: Sequence[Probe] = (), after_hooks: Sequence[AfterHook] = ()
    ) -> Harness:
        """This harness with more probes and after-hooks, for a family's own metrics."""
        return Harness(
            self.benchmark,
            self.device,
            self.preset,
            clock=self.clock,
            warmup=self.warmup,
            probes=(*self.probes, *probes),
            after_hooks=(*self.after_hooks, *after_hooks),
        )

    @property
    def measuring(self) -> bool:
        """False in a plain `pytest` run, where each benchmark body runs once as a smoke test."""
        return bool(self.benchmark.enabled)

    def record(self, family: str, workload: str, **fields: Any) -> BenchRecord:
        """A BenchRecord for this benchmark with the device and preset filled in."""
        return BenchRecord(
            family=family, workload=workload, device=self.device.kind, preset=self.preset, **fields
        )

    def measure(
        self,
        call: Callable[[], Any],
        record: BenchRecord,
        *,
        traced: Mapping[str, Traced] | None = None,
        check: Callable[[Any], None] | None = None,
    ) -> Any:
        """Runs the whole protocol for the steady state of `call`.

        Args:
            call: the step to time; built and placed already.
            record: the configuration; timing fields are filled in here.
            traced: tf.functions whose tracing must not change during the timed rounds.
            check: called with the first call's output; raises EquivalenceError on a mismatch.

        Returns:
            The output of the first call.
        """
        traced = dict(traced or {})
        timed_call = synced(call, (), self.clock.sync)
        with self.device.scope(), self._failing_loudly():
            output, first_s = first_call(timed_call, self.clock)
            if check is not None:
                check(output)
            warm = warm_up(timed_call, traced, self.clock, self.warmup) if self.measuring else None
            before = tracing_counts(traced)
            self._start_probes()
            self.benchmark(timed_call)
            metrics = self._stop_probes()
            after = tracing_counts(traced)
            check_no_retrace(before, after)
        record = dataclasses.replace(
            record,
            first_call_s=first_s,
            warmup_calls=warm.calls if warm else 0,
            warmup_s=warm.seconds if warm else None,
            tracing_count=sum(after.values()) if traced else None,
            retraces=0,
            metrics={**record.metrics, **metrics},
        )
        self._finish(call, record)
        return output

    def measure_cold(
        self,
        build: Callable[[], Callable[[], Any]],
        record: BenchRecord,
        *,
        rounds: int,
        traced_of: Callable[[Any], Mapping[str, Traced]] | None = None,
    ) -> None:
        """Times the first call of a freshly built step, `rounds` times (build is not timed).

        Every round builds anew, so each timed call pays tracing and compilation again.
        """
        built: list[Any] = []

        def setup() -> tuple[tuple, dict]:
            built[:] = [build()]
            return (built[0],), {}

        def target(step: Callable[[], Any]) -> Any:
            output = step()
            if self.clock.sync is not None:
                self.clock.sync()
            return output

        with self.device.scope(), self._failing_loudly():
            self._start_probes()
            if self.measuring:
                self.benchmark.pedantic(target, setup=setup, rounds=rounds, iterations=1)
            else:
                self.benchmark(lambda: target(setup()[0][0]))
            metrics = self._stop_probes()
        counts = tracing_counts(traced_of(built[0])) if traced_of else {}
        stats = getattr(self.benchmark, "stats", None)
        record = dataclasses.replace(
            record,
            first_call_s=stats.stats.median if stats else None,
            tracing_count=sum(counts.values()) if counts else None,
            metrics={**record.metrics, **metrics},
        )
        self._finish(None, record)

    @property
    def median_s(self) -> float | None:
        """The median time of the last timed rounds in seconds; None in a smoke run."""
        stats = getattr(self.benchmark, "stats", None)
        return float(stats.stats.median) if stats is not None else None

    def add_metrics(self, **metrics: float) -> None:
        """Adds metrics known only after the timed rounds (for example per_sample_s) to the
        record of the benchmark that just ran; names must be in schema.METRICS."""
        block = self.benchmark.extra_info.get(BLOCK_KEY)
        if block is None:
            return
        record = BenchRecord.from_extra_info(block, where=self.benchmark.name)
        record = dataclasses.replace(record, metrics={**record.metrics, **metrics})
        self.benchmark.extra_info[BLOCK_KEY] = record.to_extra_info()

    def _start_probes(self) -> None:
        for probe in self.probes:
            probe.start()

    def _stop_probes(self) -> dict[str, float]:
        metrics: dict[str, float] = {}
        for probe in self.probes:
            metrics.update(probe.stop())
        return metrics

    def _finish(self, call: Callable[[], Any] | None, record: BenchRecord) -> None:
        stats = getattr(self.benchmark, "stats", None)
        if stats is not None and stats.stats.median > 0:
            record = dataclasses.replace(
                record, throughput_per_s=record.items_per_round / stats.stats.median
            )
        if call is not None and self.measuring:
            for hook in self.after_hooks:
                try:
                    with self.device.scope():
                        extra = hook(call, record, self.benchmark.name)
                except Exception as error:  # noqa: BLE001 - an after-hook never fails a measurement
                    log.warning("tf2bench: %s failed for %s: %s", hook, self.benchmark.name, error)
                    continue
                record = dataclasses.replace(record, metrics={**record.metrics, **extra})
        self.benchmark.extra_info[BLOCK_KEY] = record.to_extra_info()

    def _failing_loudly(self):
        return _FailOnMeasurementError(self.benchmark)


class _FailOnMeasurementError:
    """Turns a MeasurementError into a test failure with its one-line message, and keeps the
    invalid numbers out of the JSON (pytest-benchmark skips fixtures with has_error)."""

    def __init__(self, benchmark: Any) -> None:
        self.benchmark = benchmark

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc is not None and isinstance(exc, MeasurementError):
            self.benchmark.has_error = True
            pytest.fail(str(exc), pytrace=False)
        return False
