"""Train, inference and control-flow steps, run eager, under tf.function (AutoGraph) or XLA.

The same Python function is handed to every mode, so a difference in time is the mode's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import tensorflow as tf

from tf2bench.errors import UsageError, expect_choice
from tf2bench.workloads.data import mnist_arrays, prepare_images
from tf2bench.workloads.models import build_functional, loss_for
from tf2bench.workloads.train_step import MODES, compile_fn, make_optimizer, make_train_step

__all__ = [
    "BATCHED_WORKLOADS",
    "MODES",
    "OP_WORKLOADS",
    "RETRACE_SHAPES",
    "RETRACE_VARIANTS",
    "STEP_MODES",
    "TOLERANCE",
    "TRAIN_WORKLOADS",
    "Step",
    "StepSpec",
    "build_step",
    "make_retrace_function",
    "retrace_inputs",
]

# The execution family adds TF1's graph + Session (workloads/session.py): a whole-step mode, not
# a wrapper of one Python function, so compile_fn and the other families do not offer it.
STEP_MODES = (*MODES, "session")
# Workloads that take a batch of MNIST images; the op-granularity pair has fixed shapes.
BATCHED_WORKLOADS = ("mlp_train", "mlp_infer", "cnn_train", "control_flow")
OP_WORKLOADS = ("many_small_ops", "few_large_ops")
TRAIN_WORKLOADS = ("mlp_train", "cnn_train")
RETRACE_VARIANTS = ("no_signature", "input_signature", "reduce_retracing")
RETRACE_SHAPES = (1, 2, 3, 4, 5, 6, 7, 8)
# float32; XLA and oneDNN fuse and reorder reductions, so modes agree to rounding, not bits.
TOLERANCE = {"rtol": 1e-4, "atol": 1e-5}


@dataclass(frozen=True)
class StepSpec:
    """What an execution-mode benchmark runs: a workload, a mode and a batch size."""

    workload: str
    mode: str
    batch_size: int | None = 32
    seed: int = 0

    def __post_init__(self) -> None:
        expect_choice("workload", self.workload, BATCHED_WORKLOADS + OP_WORKLOADS)
        expect_choice("mode", self.mode, STEP_MODES)
        if self.workload in BATCHED_WORKLOADS and (
            not isinstance(self.batch_size, int) or self.batch_size <= 0
        ):
            raise UsageError(
                "Received an invalid `batch_size`, expected a positive integer. "
                f"Received: batch_size={self.batch_size!r}"
            )


@dataclass
class Step:
    """A built step: call `fn(*args)`; `state` holds the model/optimizer for equivalence tests."""

    spec: StepSpec
    fn: Callable[..., Any]
    args: tuple
    items_per_round: int
    item_unit: str
    state: dict[str, Any] = field(default_factory=dict)

    def traced(self) -> dict[str, Any]:
        """The tf.functions whose tracing counts the retrace guard watches."""
        if hasattr(self.fn, "experimental_get_tracing_count"):
            return {self.spec.workload: self.fn}
        return {}

    def __call__(self) -> Any:
        return self.fn(*self.args)


def _batch(batch_size: int, seed: int) -> tuple[tf.Tensor, tf.Tensor]:
    arrays = mnist_arrays(batch_size, seed=seed)
    images = tf.constant(prepare_images(arrays.images[:batch_size]))
    labels = tf.constant(arrays.labels[:batch_size].astype(np.int32))
    return images, labels


def _infer_step(model) -> Callable[..., Any]:
    def infer_step(images):
        return model(images, training=False)

    return infer_step


def control_flow(images):
    """Python for/if/while on data: Python runs them eagerly; AutoGraph makes while_loop/cond."""
    x = tf.reshape(images, [tf.shape(images)[0], -1])
    total = tf.constant(0.0)
    for _ in tf.range(10):
        if tf.reduce_mean(x) > 0.25:  # data-dependent branch
            x = x * 0.9
        else:
            x = x * 1.2 + 0.01
        total += tf.reduce_sum(x)
    halvings = tf.constant(0)
    while tf.reduce_max(x) > 0.1:  # data-dependent trip count
        x = x * 0.5
        halvings += 1
    return total, halvings


def many_small_ops(x):
    """A hundred elementwise ops on a 32x32 tensor: dispatch cost dominates, fusion helps."""
    for _ in range(50):
        x = x * 1.0001 + 0.0001
    return x


def few_large_ops(a, b):
    """Two 512x512 matmuls: the kernels dominate, the launcher hardly matters."""
    return tf.reduce_sum(tf.nn.relu(tf.matmul(tf.matmul(a, b), b)))


def build_step(spec: StepSpec) -> Step:
    """Builds fresh state (model, optimizer, inputs) for `spec` and compiles its step."""
    if spec.mode == "session":
        from tf2bench.workloads.session import build_session_step

        return build_session_step(spec)
    rng = np.random.default_rng(spec.seed)
    if spec.workload in TRAIN_WORKLOADS:
        network = spec.workload.split("_")[0]
        model = build_functional(network, seed=spec.seed)
        optimizer = make_optimizer(model)
        fn = make_train_step(model, loss_for(network), spec.mode, optimizer)
        args = _batch(spec.batch_size, spec.seed)
        state = {"model": model, "optimizer": optimizer}
        return Step(spec, fn, args, spec.batch_size, "examples", state)
    if spec.workload == "mlp_infer":
        model = build_functional("mlp", seed=spec.seed)
        fn = compile_fn(_infer_step(model), spec.mode)
        return Step(
            spec,
            fn,
            _batch(spec.batch_size, spec.seed)[:1],
            spec.batch_size,
            "examples",
            {"model": model},
        )
    if spec.workload == "control_flow":
        fn = compile_fn(control_flow, spec.mode)
        return Step(spec, fn, _batch(spec.batch_size, spec.seed)[:1], spec.batch_size, "examples")
    if spec.workload == "many_small_ops":
        x = tf.constant(rng.random((32, 32), dtype=np.float32))
        return Step(spec, compile_fn(many_small_ops, spec.mode), (x,), 1, "calls")
    a = tf.constant(rng.standard_normal((512, 512), dtype=np.float32) / 512**0.5)
    b = tf.constant(rng.standard_normal((512, 512), dtype=np.float32) / 512**0.5)
    return Step(spec, compile_fn(few_large_ops, spec.mode), (a, b), 1, "calls")


def _retraced(x, w):
    return tf.reduce_sum(tf.tanh(tf.matmul(x, w)))


def make_retrace_function(variant: str) -> Callable[..., Any]:
    """A fresh tf.function (empty trace cache) of one function, configured per `variant`."""
    expect_choice("retrace variant", variant, RETRACE_VARIANTS)
    if variant == "input_signature":
        signature = [tf.TensorSpec([None, 784], tf.float32), tf.TensorSpec([784, 64], tf.float32)]
        return tf.function(_retraced, input_signature=signature)
    return tf.function(_retraced, reduce_retracing=(variant == "reduce_retracing"))


def retrace_inputs(seed: int = 0) -> tuple[list[tf.Tensor], tf.Tensor]:
    """Inputs whose leading dimension changes on every call (RETRACE_SHAPES), and the weights."""
    rng = np.random.default_rng(seed)
    xs = [tf.constant(rng.random((rows, 784), dtype=np.float32)) for rows in RETRACE_SHAPES]
    return xs, tf.constant(rng.standard_normal((784, 64), dtype=np.float32) * 0.05)
