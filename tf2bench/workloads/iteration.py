"""Iteration styles over a tf.data dataset: Python `next` or `for` against C++ loops."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import tensorflow as tf

__all__ = ["ITERATIONS", "iteration_round"]

ITERATIONS = ("python", "graph", "for", "reduce")


def _python_for(dataset: tf.data.Dataset):
    """A round: a Python `for` over `dataset` (a fresh iterator), one Python step per batch."""

    def count_batches() -> int:
        count = 0
        for _ in dataset:
            count += 1
        return count

    return count_batches


def _python_next(iterator, batches: int):
    """A round: `batches` Python `next` calls on a persistent iterator."""

    def count_batches() -> int:
        for _ in range(batches):
            next(iterator)
        return batches

    return count_batches


def iteration_round(
    iteration: str, dataset: tf.data.Dataset, batches: int
) -> tuple[Callable[[], Any], dict[str, Any]]:
    """The round of one iteration style over `batches` batches, and its traced functions.

    python / graph pull from one persistent iterator (no start-up inside the rounds), by Python
    `next` or by a `tf.function` loop of `get_next` that stays in C++; for / reduce start a
    fresh iterator over `dataset.take(batches)` every round, by a Python `for` or by
    `Dataset.reduce` inside a `tf.function`.
    """
    if iteration in ("python", "graph"):
        iterator = iter(dataset)
        if iteration == "python":
            return _python_next(iterator, batches), {}

        def pull_batches():
            count = tf.constant(0, tf.int64)
            for _ in tf.range(batches):
                images, _ = iterator.get_next()
                count += tf.cast(tf.shape(images)[0] > 0, tf.int64)
            return count

        call = tf.function(pull_batches)
        return call, {"pull_batches": call}
    taken = dataset.take(batches)
    if iteration == "for":
        return _python_for(taken), {}

    def reduce_batches():
        return taken.reduce(np.int64(0), lambda count, *batch: count + 1)

    # NOTE: inside a tf.function traced once; eager `reduce` would trace its reducer every call.
    call = tf.function(reduce_batches)
    return call, {"reduce": call}
