"""Model styles: the same network built four ways, timed op by op at several batch sizes.

Every steady benchmark first checks its output against the functional model of the same seed
(identical weights by construction), so the styles compared compute the same thing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import pytest
import tensorflow as tf

from tf2bench.errors import expect_choice
from tf2bench.harness.equivalence import assert_same_outputs
from tf2bench.harness.runner import per_item
from tf2bench.presets import pick
from tf2bench.workloads.models import (
    KERAS_STYLES,
    NETWORKS,
    STYLES,
    build_model,
    example_batch,
    loss_for,
)
from tf2bench.workloads.steps import MODES, TOLERANCE
from tf2bench.workloads.train_step import make_train_step
from tf2bench.workloads.training import compile_keras, make_forward

pytestmark = pytest.mark.tf2bench_family("model_styles")

SEED = 0
# Inference ops at batch 1 show per-call overhead; 256 shows where the kernels take over.
NETWORK_CHOICES = pick(quick=("mlp",), standard=NETWORKS)
INFER_BATCHES = pick(quick=(1,), standard=(1, 32, 256), full=(1, 8, 32, 128, 256, 1024))
TRAIN_BATCHES = pick(quick=(32,), standard=(1, 32, 256), full=(1, 8, 32, 128, 256, 1024))
CALL_MODES = pick(quick=("eager", "autograph"), standard=("eager", "autograph"), full=MODES)
FIRST_CALL_MODES = pick(quick=("eager",), standard=("eager", "autograph"))
FIRST_CALL_BATCH = 32
COLD_ROUNDS = pick(quick=3, standard=5, full=10)
INFER_OPS = ("predict_on_batch", "predict")
TRAIN_OPS = ("train_on_batch",)
OPS = ("call", "custom_train", *INFER_OPS, *TRAIN_OPS)


@dataclass
class StyleOp:
    """One op on one freshly built model: `call()` runs it; `expected()` is the reference output."""

    call: Callable[[], Any]
    expected: Callable[[], Any]
    traced: dict[str, Any] = field(default_factory=dict)


def build_op(network: str, style: str, op: str, mode: str | None, batch_size: int) -> StyleOp:
    """Builds the model in `style` and the zero-argument call of `op` on one fixed batch."""
    expect_choice("op", op, OPS)
    model = build_model(network, style, SEED)
    x, y = (tf.constant(array) for array in example_batch(network, batch_size, SEED))
    reference = build_model(network, "functional", SEED)
    infer_expected = partial(reference, x, training=False)

    def train_expected():
        # The first step returns the loss before its update: the reference's loss on the batch.
        return loss_for(network)(y, reference(x, training=False))

    if op == "call":
        forward = make_forward(model, mode)
        traced = {"forward": forward} if mode != "eager" else {}
        return StyleOp(partial(forward, x), infer_expected, traced)
    if op == "custom_train":
        step = make_train_step(model, loss_for(network), mode)
        traced = {"train_step": step} if mode != "eager" else {}
        return StyleOp(partial(step, x, y), train_expected, traced)
    if op == "predict_on_batch":
        return StyleOp(partial(model.predict_on_batch, x), infer_expected)
    if op == "predict":
        return StyleOp(partial(model.predict, x, batch_size=batch_size, verbose=0), infer_expected)
    compile_keras(model, network)
    return StyleOp(partial(model.train_on_batch, x, y), train_expected)


def _measure_op(harness, network, style, op, mode, batch_size) -> None:
    with harness.device.scope():
        built = build_op(network, style, op, mode, batch_size)
        expected = built.expected()
    record = harness.record(
        network,
        style=style,
        mode=mode,
        batch_size=batch_size,
        items_per_round=batch_size,
        item_unit="examples",
        params={"op": op},
    )

    def check(output):
        assert_same_outputs(
            output, expected, what=f"{network} {style} {op} vs functional", **TOLERANCE
        )

    derive = per_item("per_sample_s", batch_size)
    harness.measure(built.call, record, traced=built.traced, check=check, derive=derive)


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("network", NETWORK_CHOICES)
def test_build(harness, network, style):
    """Construction until the weights exist (a subclassed model is built for its input shape)."""
    record = harness.record(network, style=style, item_unit="builds", params={"op": "build"})
    harness.measure_cold(
        lambda: partial(build_model, network, style, SEED), record, rounds=COLD_ROUNDS
    )


@pytest.mark.parametrize("mode", FIRST_CALL_MODES)
@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("network", NETWORK_CHOICES)
def test_first_call(harness, network, style, mode):
    """The first `model(x)` of a freshly built model (eager) or its first tf.function call."""
    x = example_batch(network, FIRST_CALL_BATCH, SEED)[0]
    record = harness.record(
        network,
        style=style,
        mode=mode,
        batch_size=FIRST_CALL_BATCH,
        item_unit="first calls",
        params={"op": "first_call"},
    )

    def fresh():
        return partial(make_forward(build_model(network, style, SEED), mode), tf.constant(x))

    harness.measure_cold(
        fresh,
        record,
        rounds=COLD_ROUNDS,
        traced_of=lambda call: {"forward": call.func} if mode != "eager" else {},
    )


@pytest.mark.parametrize("batch_size", INFER_BATCHES)
@pytest.mark.parametrize("mode", CALL_MODES)
@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("network", NETWORK_CHOICES)
def test_call(harness, network, style, mode, batch_size):
    """Steady-state `model(x)`, eager or inside a tf.function."""
    _measure_op(harness, network, style, "call", mode, batch_size)


@pytest.mark.parametrize("batch_size", INFER_BATCHES)
@pytest.mark.parametrize("op", INFER_OPS)
@pytest.mark.parametrize("style", KERAS_STYLES)
@pytest.mark.parametrize("network", NETWORK_CHOICES)
def test_keras_inference(harness, network, style, op, batch_size):
    """`predict_on_batch(x)` and `predict(x)` on one batch (Keras styles only)."""
    _measure_op(harness, network, style, op, None, batch_size)


@pytest.mark.parametrize("batch_size", TRAIN_BATCHES)
@pytest.mark.parametrize("style", KERAS_STYLES)
@pytest.mark.parametrize("network", NETWORK_CHOICES)
def test_train_on_batch(harness, network, style, batch_size):
    """`train_on_batch(x, y)` after `compile` (Keras styles only)."""
    _measure_op(harness, network, style, "train_on_batch", None, batch_size)


@pytest.mark.parametrize("batch_size", TRAIN_BATCHES)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("network", NETWORK_CHOICES)
def test_custom_train(harness, network, style, mode, batch_size):
    """A `tf.GradientTape` train step with SGD, eager, under tf.function and under XLA."""
    _measure_op(harness, network, style, "custom_train", mode, batch_size)
