"""The limit of an input pipeline: the same bytes sliced batch by batch from NumPy, no tf.data."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from tf2bench.errors import expect_int

if TYPE_CHECKING:
    from tf2bench.workloads.pipelines import PipelineData

__all__ = ["NumpyBatches"]


class NumpyBatches:
    """The limit: the same bytes sliced batch by batch straight from the NumPy arrays, forever.

    Each batch is copied out, so its bytes are touched once as a tf.data batch's are; the last
    batch of a pass wraps around to the start, so every batch is full.
    """

    def __init__(self, data: PipelineData, batch_size: int) -> None:
        expect_int("batch_size", batch_size, minimum=1, meaning="elements per batch")
        self.images, self.labels = data.images, data.labels
        self.batch_size = batch_size
        self.position = 0

    def __iter__(self) -> NumpyBatches:
        return self

    def __next__(self) -> tuple[np.ndarray, np.ndarray]:
        start, stop = self.position, self.position + self.batch_size
        count = len(self.labels)
        if stop <= count:
            batch = (self.images[start:stop].copy(), self.labels[start:stop].copy())
        else:
            rows = np.arange(start, stop) % count
            batch = (self.images[rows], self.labels[rows])
        self.position = stop % count
        return batch
