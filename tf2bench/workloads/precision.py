"""Mixed precision: a context manager for the Keras dtype policy and mixed_float16 train steps.

Keras layers take the global dtype policy when they are built, so a model built inside
`dtype_policy("mixed_float16")` computes in float16 (variables stay float32) even after the
context has restored the previous policy.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from tf2bench.errors import UsageError, expect_choice
from tf2bench.workloads.steps import LEARNING_RATE, Step, StepSpec, build_step, compile_fn

__all__ = [
    "MIXED_TOLERANCE",
    "PRECISIONS",
    "TRAIN_WORKLOADS",
    "build_mixed_train_step",
    "dtype_policy",
]

PRECISIONS = ("float32", "mixed_float16")
TRAIN_WORKLOADS = ("mlp_train", "cnn_train")
# float16 has an 11-bit significand: a loss agrees with float32's to about 1e-3 relative.
MIXED_TOLERANCE = {"rtol": 1e-2, "atol": 1e-3}


@contextlib.contextmanager
def dtype_policy(name: str = "mixed_float16") -> Iterator[Any]:
    """Sets the Keras global dtype policy for the block and restores the previous one after.

    The previous policy comes back in `finally`, so an exception inside leaves no trace.

    Yields:
        The policy in force inside the block (a keras.DTypePolicy).
    """
    from tf2bench.workloads.keras_compat import keras

    previous = keras.mixed_precision.global_policy()
    try:
        keras.mixed_precision.set_global_policy(name)
    except ValueError:
        raise UsageError(
            f"Received an invalid dtype policy, expected a Keras policy name such as "
            f"{', '.join(PRECISIONS)}. Received: {name!r}"
        ) from None
    try:
        yield keras.mixed_precision.global_policy()
    finally:
        keras.mixed_precision.set_global_policy(previous)


def _scaled_train_step(model, optimizer, loss_fn):
    import tensorflow as tf

    def train_step(images, labels):
        with tf.GradientTape() as tape:
            logits = model(images, training=True)
            # NOTE: the loss is computed in float32 (Keras casts logits to the loss dtype).
            loss = loss_fn(labels, logits)
            # Loss scaling keeps small float16 gradients from flushing to zero.
            scaled = optimizer.scale_loss(loss)
        gradients = tape.gradient(scaled, model.trainable_variables)
        # apply_gradients unscales, and skips the update when a gradient is not finite.
        optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))
        return loss

    return train_step


def build_mixed_train_step(spec: StepSpec) -> Step:
    """A train step of `spec` whose model computes in float16 with dynamic loss scaling.

    The same seeded weights and batch as `build_step(spec)`, so the first loss agrees with the
    float32 step within MIXED_TOLERANCE.
    """
    from tf2bench.workloads.keras_compat import keras, loss_scale_optimizer, sgd
    from tf2bench.workloads.models import build_functional

    expect_choice("mixed-precision workload", spec.workload, TRAIN_WORKLOADS)
    with dtype_policy("mixed_float16"):
        model = build_functional(spec.workload.split("_")[0], seed=spec.seed)
        optimizer = loss_scale_optimizer(sgd(LEARNING_RATE))
    # Built up front: creating optimizer slots inside the first trace would trace twice.
    optimizer.build(model.trainable_variables)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    fn = compile_fn(_scaled_train_step(model, optimizer, loss_fn), spec.mode)
    state = {"model": model, "optimizer": optimizer}
    return Step(spec, fn, _float32_batch(spec), spec.batch_size, "examples", state)


def _float32_batch(spec: StepSpec) -> tuple:
    """The float32 batch of the float32 step; the model's first layer casts it to float16."""
    return build_step(spec).args
