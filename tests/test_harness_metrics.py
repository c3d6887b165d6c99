"""Harness.median_s and Harness.add_metrics: metrics known only after the timed rounds."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tf2bench.errors import UsageError
from tf2bench.harness.devices import Device
from tf2bench.harness.runner import Harness
from tf2bench.harness.timing import Clock
from tf2bench.records.schema import BLOCK_KEY


class _Benchmark:
    """pytest-benchmark's fixture reduced to what the harness reads: a fixed median."""

    def __init__(self, median: float | None) -> None:
        self.enabled = median is not None
        self.stats = SimpleNamespace(stats=SimpleNamespace(median=median)) if median else None
        self.extra_info: dict = {}
        self.has_error = False
        self.name = "test_metrics[cpu]"

    def __call__(self, fn):
        fn()


def _measured(median: float | None, fake_clock) -> Harness:
    harness = Harness(_Benchmark(median), Device("cpu"), "quick", clock=Clock(now=fake_clock))
    record = harness.record("model_styles", "mlp", style="lowlevel", batch_size=32)
    harness.measure(lambda: 1.0, record)
    return harness


def test_per_sample_time_is_added_to_the_record(fake_clock):
    harness = _measured(0.004, fake_clock)
    assert harness.median_s == pytest.approx(0.004)
    harness.add_metrics(per_sample_s=harness.median_s / 32)
    block = harness.benchmark.extra_info[BLOCK_KEY]
    assert block["metrics"]["per_sample_s"] == pytest.approx(0.004 / 32)
    assert block["style"] == "lowlevel" and block["throughput_per_s"] == pytest.approx(250.0)


def test_a_smoke_run_has_no_median_and_unknown_metric_names_are_refused(fake_clock):
    harness = _measured(None, fake_clock)
    assert harness.median_s is None
    with pytest.raises(UsageError, match="unknown metric names"):
        harness.add_metrics(per_step_seconds=1.0)
