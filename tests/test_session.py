"""The TF1 `session` mode: the eager step in a tf.Graph run by tf.compat.v1.Session."""

from __future__ import annotations

import pytest
import tensorflow as tf

from tf2bench.errors import EquivalenceError, UsageError
from tf2bench.harness.equivalence import assert_same_outputs
from tf2bench.workloads.session import SessionFunction
from tf2bench.workloads.steps import (
    BATCHED_WORKLOADS,
    OP_WORKLOADS,
    TOLERANCE,
    StepSpec,
    build_step,
)

BATCH = 8


def _spec(workload: str, mode: str) -> StepSpec:
    return StepSpec(workload, mode, BATCH if workload in BATCHED_WORKLOADS else None)


def _two_calls(step) -> list:
    # Two calls: a train step's second output shows whether the first one updated the weights.
    return [step(), step()]


def _assert_like_eager(step, workload: str) -> None:
    expected = _two_calls(build_step(_spec(workload, "eager")))
    assert_same_outputs(_two_calls(step), expected, what=f"{workload} session", **TOLERANCE)


@pytest.mark.parametrize("workload", BATCHED_WORKLOADS + OP_WORKLOADS)
def test_session_mode_computes_what_eager_computes(workload):
    step = build_step(_spec(workload, "session"))
    assert isinstance(step.fn, SessionFunction)
    assert not step.traced()  # nothing is traced per call: the graph exists already
    _assert_like_eager(step, workload)


def test_train_steps_fetch_the_updates_and_inference_does_not():
    train = build_step(_spec("mlp_train", "session"))
    infer = build_step(_spec("mlp_infer", "session"))
    assert train.fn.train_op is not None and infer.fn.train_op is None
    assert [p.op.type for p in train.fn.placeholders] == ["Placeholder", "Placeholder"]
    first, second = _two_calls(train)
    assert first != second  # the loss moved: the weights were updated between the calls


def test_the_graph_is_built_once():
    step = build_step(_spec("cnn_train", "session"))
    graph = step.fn.graph
    assert graph.finalized
    size = len(graph.get_operations())
    _two_calls(step)
    assert len(graph.get_operations()) == size


def test_an_altered_output_fails_the_check():
    step = build_step(_spec("mlp_infer", "session"))
    graph = step.fn.graph
    graph._unsafe_unfinalize()
    with graph.as_default():
        step.fn.outputs = step.fn.outputs * 1.001
    with pytest.raises(EquivalenceError, match="mlp_infer session"):
        _assert_like_eager(step, "mlp_infer")


def test_a_graph_without_its_train_op_fails_the_check():
    # The classic TF1 mistake: fetching the loss alone runs no update.
    step = build_step(_spec("mlp_train", "session"))
    step.fn.train_op = None
    with pytest.raises(EquivalenceError, match=r"mlp_train session\[1\]"):
        _assert_like_eager(step, "mlp_train")


def test_an_unknown_mode_still_lists_session():
    with pytest.raises(UsageError, match="session"):
        StepSpec("mlp_train", "graph", 8)


def test_session_runs_leave_eager_execution_on():
    build_step(_spec("many_small_ops", "session"))()
    assert tf.executing_eagerly()
