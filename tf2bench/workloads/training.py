"""Forward passes, custom train steps and training loops for any model style, eager or compiled.

The custom loops and Keras' `fit` use the same optimizer (SGD), loss and `tf.data` pipeline, so
from the same weights they take the same steps and a difference in time is the loop's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import tensorflow as tf

from tf2bench.errors import UsageError, expect_choice
from tf2bench.workloads.keras_compat import keras, sgd
from tf2bench.workloads.models import example_batch, loss_for
from tf2bench.workloads.train_step import (
    LEARNING_RATE,
    MODES,
    compile_fn,
    make_optimizer,
    make_train_step,
)

__all__ = [
    "CustomLoop",
    "compile_keras",
    "fit_epoch",
    "make_forward",
    "train_dataset",
]


def make_forward(model, mode: str) -> Callable[[tf.Tensor], tf.Tensor]:
    """`model(x, training=False)` run eager, under tf.function (AutoGraph) or under XLA."""

    def forward(x):
        return model(x, training=False)

    return compile_fn(forward, mode)


def compile_keras(model: keras.Model, network: str, steps_per_execution: int = 1) -> keras.Model:
    """`model.compile` with the custom loops' optimizer and loss; Keras picks jit_compile
    ("auto": XLA on a GPU, not on a CPU-only machine)."""
    if not isinstance(model, keras.Model):
        raise UsageError(
            f"Received a {type(model).__name__}, expected a keras.Model for compile/fit "
            "(the lowlevel style trains with a custom loop only)"
        )
    model.compile(
        optimizer=sgd(LEARNING_RATE),
        loss=loss_for(network),
        steps_per_execution=steps_per_execution,
    )
    return model


def train_dataset(network: str, batch_size: int, steps: int, seed: int = 0) -> tf.data.Dataset:
    """`steps` batches from `tf.data`: in-memory slices, batched with a static shape, prefetched.

    No shuffle and no cache, so every epoch sees the same batches in the same order and the
    first epoch pays no cache filling; `drop_remainder` keeps one traced shape.
    """
    if not isinstance(steps, int) or steps <= 0:
        raise UsageError(
            f"Received an invalid `steps`, expected a positive integer. Received: steps={steps!r}"
        )
    x, y = example_batch(network, batch_size * steps, seed)
    dataset = tf.data.Dataset.from_tensor_slices((x, y))
    return dataset.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)


def fit_epoch(model: keras.Model, dataset: tf.data.Dataset) -> keras.callbacks.History:
    """One epoch of `model.fit` over `dataset` (compiled already; no shuffle, no output)."""
    return model.fit(dataset, epochs=1, verbose=0, shuffle=False)


class CustomLoop:
    """A custom training loop: `for x, y in dataset: step(x, y)`, or K steps per call.

    With `steps_per_execution` K > 1 one tf.function call runs K steps from the dataset's
    iterator inside the graph (as Keras' `fit` does), so Python is entered once per K steps.
    """

    def __init__(self, model, network: str, mode: str, steps_per_execution: int = 1) -> None:
        expect_choice("mode", mode, MODES)
        if not isinstance(steps_per_execution, int) or steps_per_execution <= 0:
            raise UsageError(
                "Received an invalid `steps_per_execution`, expected a positive integer. "
                f"Received: steps_per_execution={steps_per_execution!r}"
            )
        if mode == "eager" and steps_per_execution > 1:
            raise UsageError(
                "Received steps_per_execution > 1 with mode='eager', expected autograph or xla "
                "(several steps per call need a tf.function)"
            )
        self.model = model
        self.optimizer = make_optimizer(model)
        self.steps_per_execution = steps_per_execution
        self.step = make_train_step(model, loss_for(network), mode, self.optimizer)
        self.execute = tf.function(self._run_steps) if steps_per_execution > 1 else None

    def _run_steps(self, iterator):
        # NOTE: the iterator stays outside any XLA cluster: only the step itself is compiled.
        loss = tf.constant(0.0)
        for _ in tf.range(self.steps_per_execution):
            x, y = next(iterator)
            loss = self.step(x, y)
        return loss

    def traced(self) -> dict[str, Any]:
        """The tf.functions whose tracing counts the retrace guard watches."""
        return {
            name: fn
            for name, fn in (("train_step", self.step), ("execute", self.execute))
            if hasattr(fn, "experimental_get_tracing_count")
        }

    def epoch(self, dataset: tf.data.Dataset) -> tf.Tensor:
        """One pass over `dataset`; its batches must be a multiple of steps_per_execution.

        Returns:
            The loss of the last step.
        """
        if self.execute is None:
            loss = None
            for x, y in dataset:
                loss = self.step(x, y)
            return loss
        batches = int(dataset.cardinality())
        if batches < 0 or batches % self.steps_per_execution:
            raise UsageError(
                f"Received a dataset of {batches} batches, expected a known multiple of "
                f"steps_per_execution={self.steps_per_execution}"
            )
        iterator = iter(dataset)
        for _ in range(batches // self.steps_per_execution):
            loss = self.execute(iterator)
        return loss
