"""Execution modes: the same Python function eager, under tf.function (AutoGraph), under XLA,
and built once in a TF1 graph run by `tf.compat.v1.Session` (session)."""

from __future__ import annotations

import dataclasses

import pytest

from tf2bench.harness.equivalence import assert_same_outputs
from tf2bench.presets import pick
from tf2bench.workloads.precision import MIXED_TOLERANCE, TRAIN_WORKLOADS, build_mixed_train_step
from tf2bench.workloads.steps import (
    BATCHED_WORKLOADS,
    MODES,
    OP_WORKLOADS,
    RETRACE_VARIANTS,
    STEP_MODES,
    TOLERANCE,
    StepSpec,
    build_step,
    make_retrace_function,
    retrace_inputs,
)

pytestmark = pytest.mark.tf2bench_family("execution")

BATCH_SIZES = pick(quick=(32,), standard=(1, 32, 256), full=(1, 8, 32, 128, 256, 1024))
COLD_WORKLOADS = pick(quick=("mlp_train",), standard=("mlp_train", "cnn_train", "control_flow"))
COLD_ROUNDS = pick(quick=3, standard=5, full=10)
RETRACE_ROUNDS = pick(quick=3, standard=5, full=10)
MIXED_WORKLOADS = pick(quick=("mlp_train",), standard=TRAIN_WORKLOADS)


def _eager_check(spec: StepSpec):
    """Compares a mode's first output with eager's on identical fresh state (cheap: one call)."""
    if spec.mode == "eager":
        return None
    expected = build_step(dataclasses.replace(spec, mode="eager"))()
    return lambda output: assert_same_outputs(
        output, expected, what=f"{spec.workload} {spec.mode} vs eager", **TOLERANCE
    )


def _measure_steady(harness, spec: StepSpec) -> None:
    with harness.device.scope():
        step = build_step(spec)
        check = _eager_check(spec)
    record = harness.record(
        spec.workload,
        mode=spec.mode,
        batch_size=spec.batch_size,
        items_per_round=step.items_per_round,
        item_unit=step.item_unit,
        params={"phase": "steady"},
    )
    harness.measure(step, record, traced=step.traced(), check=check)


@pytest.mark.parametrize("batch_size", BATCH_SIZES)
@pytest.mark.parametrize("mode", STEP_MODES)
@pytest.mark.parametrize("workload", BATCHED_WORKLOADS)
def test_step(harness, workload, mode, batch_size):
    _measure_steady(harness, StepSpec(workload, mode, batch_size))


@pytest.mark.parametrize("mode", STEP_MODES)
@pytest.mark.parametrize("workload", OP_WORKLOADS)
def test_op_granularity(harness, workload, mode):
    _measure_steady(harness, StepSpec(workload, mode, batch_size=None))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("workload", MIXED_WORKLOADS)
def test_mixed_precision(harness, workload, mode):
    """The train step under the mixed_float16 policy (float16 math, float32 variables).

    Measured on a GPU only; elsewhere the smoke run still checks it once against float32.
    """
    if harness.device.kind != "gpu" and harness.measuring:
        pytest.skip("mixed_float16 is a GPU variant: on a CPU, float16 math is slower, not faster")
    spec = StepSpec(workload, mode, batch_size=32)
    with harness.device.scope():
        step = build_mixed_train_step(spec)
        expected = build_step(dataclasses.replace(spec, mode="eager"))()
    record = harness.record(
        workload,
        mode=mode,
        batch_size=spec.batch_size,
        items_per_round=step.items_per_round,
        item_unit=step.item_unit,
        params={"phase": "steady", "precision": "mixed_float16"},
    )
    what = f"{workload} {mode} mixed_float16 vs float32 eager"
    harness.measure(
        step,
        record,
        traced=step.traced(),
        check=lambda output: assert_same_outputs(output, expected, what=what, **MIXED_TOLERANCE),
    )


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("workload", COLD_WORKLOADS)
def test_cold_start(harness, workload, mode):
    """First call of a freshly built step: tracing + compilation + one run, every round."""
    spec = StepSpec(workload, mode, batch_size=32)
    record = harness.record(
        workload,
        mode=mode,
        batch_size=spec.batch_size,
        items_per_round=1,
        item_unit="first calls",
        params={"phase": "cold"},
    )
    harness.measure_cold(
        lambda: build_step(spec), record, rounds=COLD_ROUNDS, traced_of=lambda step: step.traced()
    )


class _ShapeSweep:
    """One round of the retracing benchmark: a fresh tf.function called on every input shape."""

    def __init__(self, variant: str, xs, w) -> None:
        self.fn = make_retrace_function(variant)
        self.xs, self.w = xs, w

    def __call__(self):
        return [self.fn(x, self.w) for x in self.xs]


@pytest.mark.parametrize("variant", RETRACE_VARIANTS)
def test_retracing(harness, variant):
    """Changing input shapes: how many traces each tf.function configuration pays, and the time."""
    with harness.device.scope():
        xs, w = retrace_inputs()
    record = harness.record(
        "retracing",
        mode="autograph",
        items_per_round=len(xs),
        item_unit="calls",
        params={"phase": "retrace", "variant": variant, "shapes": len(xs)},
    )
    harness.measure_cold(
        lambda: _ShapeSweep(variant, xs, w),
        record,
        rounds=RETRACE_ROUNDS,
        traced_of=lambda sweep: {"retraced": sweep.fn},
    )
