"""Measurement values: derived metrics (per_item) and what a smoke run leaves out."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tf2bench.errors import UsageError
from tf2bench.harness.devices import Device
from tf2bench.harness.runner import Harness, Measurement, per_item
from tf2bench.harness.timing import Clock
from tf2bench.records.schema import BLOCK_KEY, BenchRecord


class _Benchmark:
    """pytest-benchmark's fixture reduced to what the harness reads: fixed round times."""

    def __init__(self, times: list[float] | None) -> None:
        self.enabled = times is not None
        median = sorted(times)[len(times) // 2] if times else None
        self.stats = SimpleNamespace(stats=SimpleNamespace(median=median, data=times))
        self.stats = self.stats if times else None
        self.extra_info: dict = {}
        self.has_error = False
        self.name = "test_metrics[cpu]"

    def __call__(self, fn):
        fn()


def _harness(times, fake_clock) -> Harness:
    clock = Clock(now=fake_clock)
    return Harness(_Benchmark(times), Device("cpu"), "quick", family="model_styles", clock=clock)


def test_per_sample_time_is_derived_and_written_once(fake_clock):
    harness = _harness([0.003, 0.004, 0.005], fake_clock)
    record = harness.record("mlp", style="lowlevel", batch_size=32, items_per_round=1)
    measurement = harness.measure(lambda: 1.0, record, derive=per_item("per_sample_s", 32))
    assert measurement.median_s == pytest.approx(0.004)
    assert measurement.record.metrics["per_sample_s"] == pytest.approx(0.004 / 32)
    harness.finish()
    block = harness.benchmark.extra_info[BLOCK_KEY]
    assert block["metrics"]["per_sample_s"] == pytest.approx(0.004 / 32)
    assert block["style"] == "lowlevel" and block["throughput_per_s"] == pytest.approx(250.0)


def test_a_smoke_run_has_no_median_and_unknown_metric_names_are_refused(fake_clock):
    harness = _harness(None, fake_clock)
    measurement = harness.measure(lambda: 1.0, harness.record("mlp"), derive=per_item("x", 2))
    assert measurement.median_s is None and measurement.record.metrics.get("x") is None
    with pytest.raises(UsageError, match="unknown metric names"):
        measurement.with_metrics(per_step_seconds=1.0)


def test_a_measurement_is_a_value():
    first = Measurement(BenchRecord("saving", "mlp"), times_s=(1.0, 2.0), output=object())
    same = Measurement(BenchRecord("saving", "mlp"), times_s=(1.0, 2.0), output=object())
    assert first == same, "the first call's output is not part of the value"
    with pytest.raises(AttributeError):
        first.times_s = ()
