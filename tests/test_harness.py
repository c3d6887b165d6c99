"""The Harness protocol around a stand-in for pytest-benchmark's fixture."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tf2bench.errors import EquivalenceError, UsageError
from tf2bench.harness.devices import Device
from tf2bench.harness.runner import Harness
from tf2bench.harness.timing import Clock, WarmupPolicy
from tf2bench.records.schema import BLOCK_KEY, SCHEMA_VERSION


class FakeBenchmark:
    """Calls the function `rounds` times like pytest-benchmark and reports a fixed median."""

    def __init__(self, median: float = 0.002, rounds: int = 5, enabled: bool = True) -> None:
        self.enabled = enabled
        self.rounds = rounds
        self.extra_info: dict = {}
        self.has_error = False
        self.name = "test_fake[cpu]"
        times = [median * 0.75, median, median * 1.25]
        stats = SimpleNamespace(median=median, data=times)
        self.stats = SimpleNamespace(stats=stats) if enabled else None
        self.before_rounds = None
        self.group = None
        self.group_at_first_round = None

    def __call__(self, fn):
        self.group_at_first_round = self.group  # pytest-benchmark copies it when rounds start
        for _ in range(self.rounds if self.enabled else 1):
            fn()


class CountingStep:
    """A step whose tracing count jumps at a chosen call, like a tf.function fed a new shape."""

    def __init__(self, retrace_at_call: int | None = None) -> None:
        self.calls = 0
        self.count = 1
        self.retrace_at_call = retrace_at_call

    def __call__(self):
        self.calls += 1
        if self.calls == self.retrace_at_call:
            self.count += 1
        return [1.0, 2.0]

    def experimental_get_tracing_count(self) -> int:
        return self.count


def make_harness(benchmark, fake_clock, family="execution", **kwargs) -> Harness:
    return Harness(
        benchmark,
        Device("cpu"),
        "quick",
        family=family,
        clock=Clock(now=fake_clock),
        warmup=WarmupPolicy(min_calls=2, settle_calls=2),
        **kwargs,
    )


def test_measure_records_first_call_warmup_and_throughput(fake_clock):
    bench = FakeBenchmark(median=0.004)
    harness = make_harness(bench, fake_clock)
    step = CountingStep()
    record = harness.record("mlp_train", mode="autograph", batch_size=32, items_per_round=32)
    measurement = harness.measure(step, record, traced={"train_step": step})
    assert BLOCK_KEY not in bench.extra_info, "the fixture writes extra_info, once, at the end"
    harness.finish()
    block = bench.extra_info[BLOCK_KEY]
    assert block == measurement.record.to_extra_info() and harness.result is measurement
    assert measurement.output == [1.0, 2.0] and measurement.warmup.calls == 2
    assert measurement.times_s == pytest.approx((0.003, 0.004, 0.005))
    assert block["schema_version"] == SCHEMA_VERSION
    assert block["first_call_s"] == pytest.approx(fake_clock.step)
    assert block["warmup_calls"] == 2
    assert block["throughput_per_s"] == pytest.approx(32 / 0.004)
    assert block["tracing_count"] == 1 and "retraces" not in block  # schema 3 dropped it
    assert block["device"] == "cpu" and block["preset"] == "quick"
    assert step.calls == 1 + 2 + bench.rounds


def test_a_retrace_in_the_timed_rounds_fails_the_benchmark(fake_clock):
    bench = FakeBenchmark()
    harness = make_harness(bench, fake_clock)
    step = CountingStep(retrace_at_call=5)  # first call, 2 warm-up calls, then timed rounds
    record = harness.record("mlp_train", mode="autograph")
    with pytest.raises(pytest.fail.Exception, match="'train_step'.*1 before, 2 after"):
        harness.measure(step, record, traced={"train_step": step})
    harness.finish()
    assert bench.has_error, "an invalid measurement must be kept out of the JSON"
    assert BLOCK_KEY not in bench.extra_info


def test_an_equivalence_failure_fails_the_benchmark(fake_clock):
    bench = FakeBenchmark()
    harness = make_harness(bench, fake_clock)

    def check(output):
        raise EquivalenceError("xla vs eager differs")

    with pytest.raises(pytest.fail.Exception, match="xla vs eager differs"):
        harness.measure(CountingStep(), harness.record("x"), check=check)
    assert bench.has_error


def test_smoke_run_calls_once_and_skips_warm_up(fake_clock):
    bench = FakeBenchmark(enabled=False)
    step = CountingStep()
    harness = make_harness(bench, fake_clock)
    measurement = harness.measure(step, harness.record("x"))
    assert step.calls == 2  # the timed first call, then the benchmark's single untimed call
    assert measurement.record.throughput_per_s is None and measurement.median_s is None


def test_probes_wrap_the_timed_rounds_and_after_hooks_add_metrics(fake_clock):
    events = []

    class Probe:
        def start(self):
            events.append("start")

        def stop(self):
            events.append("stop")
            return {"peak_host_bytes": 123.0}

    def hook(call, record, name):
        events.append(f"hook {name}")
        return {"profile_overhead_ratio": 1.5}

    def failing_hook(call, record, name):
        raise RuntimeError("profiler exploded")

    bench = FakeBenchmark(rounds=1)
    harness = make_harness(bench, fake_clock, probes=[Probe()], after_hooks=[failing_hook, hook])
    measurement = harness.measure(lambda: events.append("call"), harness.record("x"))
    assert events == ["call", "call", "call", "start", "call", "stop", "hook test_fake[cpu]"]
    assert measurement.warnings == (f"{failing_hook} failed for test_fake[cpu]: profiler exploded",)
    assert measurement.record.metrics == {
        "peak_host_bytes": 123.0,
        "profile_overhead_ratio": 1.5,
    }


def test_with_extra_keeps_the_fixture_hooks_and_adds_the_family_ones(fake_clock):
    class Probe:
        def __init__(self, name):
            self.name = name

        def start(self):
            pass

        def stop(self):
            return {self.name: 1.0}

    bench = FakeBenchmark(rounds=1)
    base = make_harness(
        bench, fake_clock, family="input_pipeline", probes=[Probe("peak_host_bytes")]
    )
    extended = base.with_extra(probes=[Probe("input_bound_fraction")])
    assert extended.clock is base.clock and extended.device == base.device
    extended.measure(lambda: None, extended.record("pipeline"))
    base.finish()  # the fixture holds the base harness: the extended one's result is its own
    assert bench.extra_info[BLOCK_KEY]["metrics"] == {
        "peak_host_bytes": 1.0,
        "input_bound_fraction": 1.0,
    }
    assert len(base.probes) == 1, "the fixture's harness is left as it was"


@pytest.mark.parametrize("cold", [False, True], ids=["steady", "cold"])
def test_the_group_is_named_from_the_family_declaration_before_the_rounds(fake_clock, cold):
    bench = FakeBenchmark(enabled=False)  # measure_cold's smoke run calls the fixture too
    harness = make_harness(bench, fake_clock)
    phase = "cold" if cold else "steady"
    record = harness.record("mlp_train", mode="xla", batch_size=32, params={"phase": phase})
    if cold:
        harness.measure_cold(CountingStep, record, rounds=3)
    else:
        harness.measure(CountingStep(), record)
    expected = "execution cold start mlp_train" if cold else "execution mlp_train batch=32"
    assert bench.group_at_first_round == expected


def test_a_benchmark_without_a_family_is_refused(fake_clock):
    harness = make_harness(FakeBenchmark(), fake_clock, family=None)
    with pytest.raises(UsageError, match="tf2bench_family"):
        harness.record("x")
