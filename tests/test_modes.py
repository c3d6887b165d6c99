"""Every execution mode computes what eager computes, within the stated tolerance."""

from __future__ import annotations

import numpy as np
import pytest

from tf2bench.errors import EquivalenceError, UsageError
from tf2bench.harness.equivalence import assert_same_outputs
from tf2bench.workloads.steps import (
    BATCHED_WORKLOADS,
    OP_WORKLOADS,
    RETRACE_SHAPES,
    TOLERANCE,
    StepSpec,
    build_step,
    make_retrace_function,
    retrace_inputs,
)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["autograph", "xla"])
@pytest.mark.parametrize("workload", BATCHED_WORKLOADS + OP_WORKLOADS)
def test_mode_matches_eager(workload, mode):
    batch = None if workload in OP_WORKLOADS else 8
    eager = build_step(StepSpec(workload, "eager", batch))
    compiled = build_step(StepSpec(workload, mode, batch))
    # Two steps: the second shows that the first update was the same too.
    for _ in range(2):
        assert_same_outputs(compiled(), eager(), what=f"{workload} {mode}", **TOLERANCE)
    if "model" in eager.state:
        for ours, theirs in zip(
            compiled.state["model"].trainable_variables,
            eager.state["model"].trainable_variables,
            strict=True,
        ):
            np.testing.assert_allclose(ours.numpy(), theirs.numpy(), **TOLERANCE)


def test_compiled_modes_are_tf_functions_and_eager_is_not():
    assert build_step(StepSpec("mlp_infer", "eager", 1)).traced() == {}
    traced = build_step(StepSpec("mlp_infer", "xla", 1)).traced()
    assert list(traced) == ["mlp_infer"]


def test_control_flow_takes_both_branches_and_loops():
    total, halvings = build_step(StepSpec("control_flow", "autograph", 4))()
    assert int(halvings) > 0 and float(total) > 0


def test_equivalence_guard_catches_a_different_output():
    with pytest.raises(EquivalenceError, match=r"max abs diff 0\.01"):
        assert_same_outputs(np.array([1.0, 2.01]), np.array([1.0, 2.0]), **TOLERANCE)
    with pytest.raises(EquivalenceError, match="expected shape"):
        assert_same_outputs(np.zeros(3), np.zeros(4), **TOLERANCE)


def test_different_seeds_fail_the_guard():
    a = build_step(StepSpec("mlp_train", "eager", 8, seed=0))()
    b = build_step(StepSpec("mlp_train", "eager", 8, seed=1))()
    with pytest.raises(EquivalenceError):
        assert_same_outputs(a, b, **TOLERANCE)


@pytest.mark.parametrize(
    ("variant", "expected_traces"),
    [("no_signature", len(RETRACE_SHAPES)), ("input_signature", 1), ("reduce_retracing", 2)],
)
def test_retracing_variants_trace_as_documented(variant, expected_traces):
    xs, w = retrace_inputs()
    fn = make_retrace_function(variant)
    for x in xs:
        fn(x, w)
    assert fn.experimental_get_tracing_count() == expected_traces


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"workload": "resnet", "mode": "eager"}, "expected one of mlp_train"),
        ({"workload": "mlp_train", "mode": "jit"}, "expected one of eager, autograph, xla"),
        ({"workload": "mlp_train", "mode": "eager", "batch_size": 0}, "batch_size=0"),
    ],
)
def test_step_spec_refuses_bad_input(kwargs, message):
    with pytest.raises(UsageError, match=message):
        StepSpec(**kwargs)
