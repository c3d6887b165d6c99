"""The one GradientTape train step, and the wrappers that give it a mode and a distribution.

    train_step(model, optimizer, loss_fn)        the step body: (x, y) -> loss
    compile_fn(fn, mode)                         eager | tf.function | tf.function(jit_compile)
    per_iterator(step, strategy)                 (iterator) -> loss, over `strategy.run`
    make_optimizer(model, loss_scaling=True)     mixed precision: a LossScaleOptimizer

As in Keras' own `train_step`, the body always calls `optimizer.scale_loss`, which is the
identity unless the optimizer is a `LossScaleOptimizer`; so float32 and mixed precision, and
every mode and strategy, run the same body.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import tensorflow as tf

from tf2bench.errors import expect_choice

__all__ = [
    "LEARNING_RATE",
    "MODES",
    "compile_fn",
    "forward_backward",
    "make_optimizer",
    "make_train_step",
    "per_iterator",
    "train_step",
]

MODES = ("eager", "autograph", "xla")
LEARNING_RATE = 0.01


def compile_fn(fn: Callable[..., Any], mode: str, **function_kwargs: Any) -> Callable[..., Any]:
    """`fn` itself (eager), `tf.function(fn)` (AutoGraph) or `tf.function(fn, jit_compile=True)`."""
    expect_choice("mode", mode, MODES)
    if mode == "eager":
        return fn
    return tf.function(fn, jit_compile=(mode == "xla"), **function_kwargs)


def make_optimizer(model: Any, *, loss_scaling: bool = False) -> Any:
    """SGD(LEARNING_RATE), with dynamic loss scaling if asked, built for `model`'s variables.

    Works on anything with `trainable_variables` (raw tf.Variables too). Create it inside a
    strategy's scope (and a dtype policy) when the model was.
    """
    from tf2bench.workloads.keras_compat import loss_scale_optimizer, sgd

    optimizer = sgd(LEARNING_RATE)
    if loss_scaling:
        optimizer = loss_scale_optimizer(optimizer)
    # NOTE: built up front: creating optimizer slots inside the first trace would trace twice.
    optimizer.build(model.trainable_variables)
    return optimizer


def forward_backward(
    model: Any, loss_fn: Callable, x: Any, y: Any, scale: Callable[[Any], Any] | None = None
) -> tuple[Any, Any, list[Any]]:
    """One forward and backward pass in training mode.

    Args:
        scale: applied to the loss inside the tape before differentiating (loss scaling).

    Returns:
        (outputs of `model(x)`, the unscaled loss, the gradients of the (scaled) loss with
        respect to `trainable_variables`, in their order).
    """
    with tf.GradientTape() as tape:
        outputs = model(x, training=True)
        # NOTE: the loss is computed in float32 even for a float16 model (Keras casts logits).
        loss = loss_fn(y, outputs)
        scaled = scale(loss) if scale is not None else loss
    return outputs, loss, tape.gradient(scaled, model.trainable_variables)


def train_step(model: Any, optimizer: Any, loss_fn: Callable) -> Callable[[Any, Any], Any]:
    """The step body `step(x, y) -> loss` (uncompiled); needs `model(x, training=True)` only."""

    from tf2bench.workloads.keras_compat import loss_scaling

    scale, unscale = loss_scaling(optimizer)

    def step(x, y):
        _, loss, gradients = forward_backward(model, loss_fn, x, y, scale)
        # A LossScaleOptimizer skips non-finite updates (Keras 3 also unscales in apply).
        gradients = unscale(gradients)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))
        return loss

    return step


def make_train_step(
    model: Any, loss_fn: Callable, mode: str, optimizer: Any = None, **function_kwargs: Any
) -> Callable[..., Any]:
    """`train_step` in `mode`, with a fresh `make_optimizer(model)` unless one is given."""
    optimizer = optimizer if optimizer is not None else make_optimizer(model)
    return compile_fn(train_step(model, optimizer, loss_fn), mode, **function_kwargs)


def per_iterator(
    step: Callable[[Any, Any], Any], strategy: tf.distribute.Strategy | None
) -> Callable[[Any], Any]:
    """`step` on the next batch of an iterator: `strategy.run` over replicas, summed; or plain.

    The replicas' losses are summed: scale each by the global batch (compute_average_loss).
    """
    if strategy is None:

        def on_next(iterator):
            return step(*next(iterator))

        return on_next

    def on_replicas(iterator):
        per_replica = strategy.run(step, args=next(iterator))
        return strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)

    return on_replicas
