"""The measurement protocol around pytest-benchmark's fixture, used by every benchmark.

    first call (timed, recorded) -> equivalence check -> warm-up until tracing settles
    -> tracing counts -> probes start -> timed rounds (pytest-benchmark) -> probes stop
    -> tracing counts (a retrace fails the benchmark) -> after-hooks -> Measurement

Paired with another process (`tf2bench ab`, harness/turns.py), the timed rounds are one call
each, and the CPU is handed to the partner between rounds, outside the timed region.

`measure` returns an immutable `Measurement`; the `harness` fixture writes the last one into
extra_info['tf2bench'] once, when the benchmark ends (`Harness.finish`). The benchmark's group
comes from its record's family declaration (`records.families.group_of`). After-hooks
(profiling) run outside the timed rounds and never fail the measurement.
"""

from __future__ import annotations

import dataclasses
import logging
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import pytest

from tf2bench.errors import MeasurementError, UsageError
from tf2bench.harness.devices import Device
from tf2bench.harness.timing import (
    DEFAULT_WARMUP,
    Clock,
    Traced,
    WarmupPolicy,
    WarmupResult,
    check_no_retrace,
    first_call,
    synced,
    tracing_counts,
    warm_up,
)
from tf2bench.harness.turns import Turns, rounds_for
from tf2bench.records.families import group_of
from tf2bench.records.schema import BLOCK_KEY, BenchRecord

__all__ = ["AfterHook", "Derive", "Harness", "Measurement", "Probe", "per_item"]

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


@dataclass(frozen=True)
class Measurement:
    """What one benchmark measured: its record, the raw round times, warm-up and warnings.

    Attributes:
        record: the configuration with its timing fields and metrics filled in.
        times_s: the timed rounds in seconds, in order (empty in a smoke run).
        warmup: the warm-up before the timed rounds, None when there was none.
        warnings: one line per thing that went wrong without failing the measurement.
        output: the first call's output (not part of the result's value).
    """

    record: BenchRecord
    times_s: tuple[float, ...] = ()
    warmup: WarmupResult | None = None
    warnings: tuple[str, ...] = ()
    output: Any = field(default=None, compare=False, repr=False)

    @property
    def median_s(self) -> float | None:
        """The median round time in seconds; None in a smoke run."""
        return statistics.median(self.times_s) if self.times_s else None

    def with_metrics(self, **metrics: float) -> Measurement:
        """This measurement with more record metrics (names from the family's declaration)."""
        record = dataclasses.replace(self.record, metrics={**self.record.metrics, **metrics})
        return dataclasses.replace(self, record=record)


# Metrics known only from the measurement itself (for example per_sample_s); {} for none.
Derive = Callable[[Measurement], Mapping[str, float]]


def per_item(name: str, items: int) -> Derive:
    """A Derive giving metric `name`: the median round time over `items`, seconds per item."""

    def derive(measurement: Measurement) -> dict[str, float]:
        median = measurement.median_s
        return {name: median / items} if median is not None else {}

    return derive


class Harness:
    """Times a zero-argument call on one device with pytest-benchmark and records the result."""

    def __init__(
        self,
        benchmark: Any,
        device: Device,
        preset: str,
        *,
        family: str | None = None,
        clock: Clock | None = None,
        warmup: WarmupPolicy = DEFAULT_WARMUP,
        probes: Sequence[Probe] = (),
        after_hooks: Sequence[AfterHook] = (),
        turns: Turns | None = None,
    ) -> None:
        self.benchmark = benchmark
        self.device = device
        self.preset = preset
        self.family = family
        self.clock = clock or Clock(sync=device.sync)
        self.warmup = warmup
        self.probes = tuple(probes)
        self.after_hooks = tuple(after_hooks)
        self.turns = turns  # paired with another process on one CPU (`tf2bench ab`)
        self.result: Measurement | None = None

    def with_extra(
        self, *, probes: Sequence[Probe] = (), after_hooks: Sequence[AfterHook] = ()
    ) -> Harness:
        """A view of this harness with more probes and after-hooks; results land here."""
        extended = Harness(
            self.benchmark,
            self.device,
            self.preset,
            family=self.family,
            clock=self.clock,
            warmup=self.warmup,
            probes=(*self.probes, *probes),
            after_hooks=(*self.after_hooks, *after_hooks),
            turns=self.turns,
        )
        extended._owner = self
        return extended

    @property
    def measuring(self) -> bool:
        """False in a plain `pytest` run, where each benchmark body runs once as a smoke test."""
        return bool(self.benchmark.enabled)

    def record(self, workload: str, **fields: Any) -> BenchRecord:
        """A BenchRecord for this benchmark with the family, device and preset filled in.

        The family is the module's `tf2bench_family` marker (the harness fixture reads it).
        """
        if self.family is None:
            raise UsageError(
                "Received a benchmark without a family, expected "
                "`pytestmark = pytest.mark.tf2bench_family(NAME)` in its module"
            )
        return BenchRecord(
            family=self.family,
            workload=workload,
            device=self.device.kind,
            preset=self.preset,
            **fields,
        )

    def measure(
        self,
        call: Callable[[], Any],
        record: BenchRecord,
        *,
        traced: Mapping[str, Traced] | None = None,
        check: Callable[[Any], None] | None = None,
        derive: Derive | None = None,
    ) -> Measurement:
        """Runs the whole protocol for the steady state of `call`.

        Args:
            call: the step to time; built and placed already.
            record: the configuration; timing fields are filled in here.
            traced: tf.functions whose tracing must not change during the timed rounds.
            check: called with the first call's output; raises EquivalenceError on a mismatch.
            derive: metrics computed from the measurement (e.g. `per_item`).

        Returns:
            The Measurement, also kept as `result` for the fixture to write.
        """
        traced = dict(traced or {})
        timed_call = synced(call, (), self.clock.sync)
        self._name_group(record)
        with self.device.scope(), self._failing_loudly():
            output, first_s = first_call(timed_call, self.clock)
            if check is not None:
                check(output)
            warm = warm_up(timed_call, traced, self.clock, self.warmup) if self.measuring else None
            before = tracing_counts(traced)
            self._start_probes()
            self._time_rounds(timed_call)
            metrics = self._stop_probes()
            after = tracing_counts(traced)
            check_no_retrace(before, after)
        record = dataclasses.replace(
            record,
            first_call_s=first_s,
            warmup_calls=warm.calls if warm else 0,
            warmup_s=warm.seconds if warm else None,
            tracing_count=sum(after.values()) if traced else None,
            metrics={**record.metrics, **metrics},
        )
        return self._finish(call, record, warm, output, derive)

    def measure_cold(
        self,
        build: Callable[[], Callable[[], Any]],
        record: BenchRecord,
        *,
        rounds: int,
        traced_of: Callable[[Any], Mapping[str, Traced]] | None = None,
        derive: Derive | None = None,
    ) -> Measurement:
        """Times the first call of a freshly built step, `rounds` times (build is not timed).

        Every round builds anew, so each timed call pays tracing and compilation again.
        """
        built: list[Any] = []
        self._name_group(record)

        def setup() -> tuple[tuple, dict]:
            if self.turns is not None:
                self.turns.between_rounds()
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
        return self._finish(None, record, None, None, derive)

    def _time_rounds(self, timed_call: Callable[[], Any]) -> None:
        """pytest-benchmark's rounds; when paired, one call a round, handing over between them."""
        if self.turns is None or not self.measuring:
            self.benchmark(timed_call)
            return
        per_call = min(_seconds(timed_call, self.clock) for _ in range(3))
        rounds = rounds_for(per_call, self.turns.max_time, self.turns.min_rounds)
        self.benchmark.pedantic(
            timed_call, setup=self.turns.between_rounds, rounds=rounds, iterations=1
        )

    def finish(self) -> None:
        """Writes the last Measurement into extra_info['tf2bench']; the fixture calls this once."""
        if self.result is not None:
            self.benchmark.extra_info[BLOCK_KEY] = self.result.record.to_extra_info()

    def _name_group(self, record: BenchRecord) -> None:
        # NOTE: pytest-benchmark copies the group when the rounds start, so it is set before.
        self.benchmark.group = group_of(record)

    def _start_probes(self) -> None:
        for probe in self.probes:
            probe.start()

    def _stop_probes(self) -> dict[str, float]:
        metrics: dict[str, float] = {}
        for probe in self.probes:
            metrics.update(probe.stop())
        return metrics

    def _finish(
        self,
        call: Callable[[], Any] | None,
        record: BenchRecord,
        warm: WarmupResult | None,
        output: Any,
        derive: Derive | None,
    ) -> Measurement:
        stats = getattr(self.benchmark, "stats", None)
        times = tuple(float(t) for t in getattr(stats.stats, "data", ())) if stats else ()
        if stats is not None and stats.stats.median > 0:
            record = dataclasses.replace(
                record, throughput_per_s=record.items_per_round / stats.stats.median
            )
        problems: list[str] = []
        if call is not None and self.measuring:
            for hook in self.after_hooks:
                try:
                    with self.device.scope():
                        extra = hook(call, record, self.benchmark.name)
                except Exception as error:  # noqa: BLE001 - an after-hook never fails a measurement
                    problems.append(f"{hook} failed for {self.benchmark.name}: {error}")
                    log.warning("tf2bench: %s", problems[-1])
                    continue
                record = dataclasses.replace(record, metrics={**record.metrics, **extra})
        result = Measurement(record, times, warm, tuple(problems), output)
        if derive is not None:
            result = result.with_metrics(**derive(result))
        owner = getattr(self, "_owner", self)
        owner.result = self.result = result
        return result

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


def _seconds(call: Callable[[], Any], clock: Clock) -> float:
    start = clock.read()
    call()
    return clock.read() - start
