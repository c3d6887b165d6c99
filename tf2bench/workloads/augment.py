"""The pipelines' image maps: the seed's rot90 and a heavier augment, per element or per batch.

The per-batch form of each map gives bit-identical images to the per-element form, so a
vectorised pipeline yields exactly the elements of its scalar twin.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import tensorflow as tf

from tf2bench.workloads.data import IMAGE_SHAPE

__all__ = ["BRIGHTNESS", "MAPS", "PAD", "augment_batch", "augment_image", "batch_map", "scalar_map"]

MAPS = ("none", "rot90", "augment")
# The augment translates by up to PAD pixels: pad by PAD, then crop back to 28x28.
PAD = 2
BRIGHTNESS = 0.2
_HEIGHT, _WIDTH = IMAGE_SHAPE
_LCG_MULTIPLIER, _LCG_MODULUS = 48271, 2147483647


def _augment_draws(keys: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]:
    """Per-element random draws as a pure function of the key, any shape: (dy, dx, flip, delta).

    NOTE: a counter-based hash instead of a stateful RNG, so the scalar and the vectorised map,
    sequential or parallel, draw the same numbers for the same element (exact equivalence).
    Two Lehmer (MINSTD) steps with an xor-shift between; int64 arithmetic never overflows.
    """
    state = keys % (_LCG_MODULUS - 1) + 1
    for _ in range(2):
        state = (state * _LCG_MULTIPLIER) % _LCG_MODULUS
        state = tf.bitwise.bitwise_xor(
            state, tf.bitwise.right_shift(state, tf.constant(7, tf.int64))
        )
    span = 2 * PAD + 1
    dy, dx = state % span, (state // span) % span
    flip = (state // span**2) % 2 == 1
    steps = (state // (2 * span**2)) % 401  # brightness in 401 steps over [-B, B]
    delta = (tf.cast(steps, tf.float32) - 200.0) * (BRIGHTNESS / 200.0)
    return tf.cast(dy, tf.int32), tf.cast(dx, tf.int32), flip, delta


def augment_image(image: tf.Tensor, key: tf.Tensor) -> tf.Tensor:
    """One [28, 28, 1] image: random pad-and-crop (shift up to PAD px), flip, brightness, clip."""
    dy, dx, flip, delta = _augment_draws(key)
    padded = tf.pad(image, [[PAD, PAD], [PAD, PAD], [0, 0]])
    image = tf.image.crop_to_bounding_box(padded, dy, dx, _HEIGHT, _WIDTH)
    image = tf.where(flip, tf.image.flip_left_right(image), image)
    return tf.clip_by_value(tf.image.adjust_brightness(image, delta), 0.0, 1.0)


def augment_batch(images: tf.Tensor, keys: tf.Tensor) -> tf.Tensor:
    """`augment_image` on a [b, 28, 28, 1] batch at once, bit-identical per element."""
    dy, dx, flip, delta = _augment_draws(keys)
    padded = tf.pad(images, [[0, 0], [PAD, PAD], [PAD, PAD], [0, 0]])
    # NOTE: a per-element crop offset has no tf.image op; gathering rows then columns is exact.
    rows = dy[:, None] + tf.range(_HEIGHT)[None, :]
    cols = dx[:, None] + tf.range(_WIDTH)[None, :]
    images = tf.gather(tf.gather(padded, rows, axis=1, batch_dims=1), cols, axis=2, batch_dims=1)
    images = tf.where(flip[:, None, None, None], tf.image.flip_left_right(images), images)
    return tf.clip_by_value(images + delta[:, None, None, None], 0.0, 1.0)


def scalar_map(name: str) -> Callable[..., Any]:
    """The map on one element: (image, label) for rot90, (image, label, key) for augment."""
    if name == "rot90":
        return lambda image, label: (tf.image.rot90(image), label)
    return lambda image, label, key: (augment_image(image, key), label)


def batch_map(name: str) -> Callable[..., Any]:
    """The same map on a whole batch: (images, labels) or (images, labels, keys)."""
    if name == "rot90":
        return lambda images, labels: (tf.image.rot90(images), labels)
    return lambda images, labels, keys: (augment_batch(images, keys), labels)
