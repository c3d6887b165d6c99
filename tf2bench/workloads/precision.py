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
from tf2bench.workloads.steps import TRAIN_WORKLOADS, Step, StepSpec, build_step
from tf2bench.workloads.train_step import make_optimizer, make_train_step

__all__ = [
    "MIXED_TOLERANCE",
    "PRECISIONS",
    "TRAIN_WORKLOADS",
    "build_mixed_train_step",
    "dtype_policy",
]

PRECISIONS = ("float32", "mixed_float16")
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


def build_mixed_train_step(spec: StepSpec) -> Step:
    """A train step of `spec` whose model computes in float16 with dynamic loss scaling.

    The same seeded weights and batch as `build_step(spec)`, so the first loss agrees with the
    float32 step within MIXED_TOLERANCE.
    """
    from tf2bench.workloads.models import build_functional, loss_for

    expect_choice("mixed-precision workload", spec.workload, TRAIN_WORKLOADS)
    network = spec.workload.split("_")[0]
    with dtype_policy("mixed_float16"):
        model = build_functional(network, seed=spec.seed)
    # Loss scaling keeps small float16 gradients from flushing to zero.
    optimizer = make_optimizer(model, loss_scaling=True)
    fn = make_train_step(model, loss_for(network), spec.mode, optimizer)
    state = {"model": model, "optimizer": optimizer}
    return Step(spec, fn, _float32_batch(spec), spec.batch_size, "examples", state)


def _float32_batch(spec: StepSpec) -> tuple:
    """The float32 batch of the float32 step; the model's first layer casts it to float16."""
    return build_step(spec).args
