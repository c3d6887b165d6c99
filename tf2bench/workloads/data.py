"""MNIST-shaped data: deterministic synthetic digits by default, the real MNIST file when present.

`tf.keras.datasets.mnist.load_data()` downloads from the internet; tf2bench never does. A user
who has the file points $TF2BENCH_MNIST at it (or keeps Keras' cache, ~/.keras/datasets/mnist.npz).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tf2bench.errors import UsageError
from tf2bench.settings import ENV

__all__ = [
    "IMAGE_SHAPE",
    "NUM_CLASSES",
    "Arrays",
    "default_mnist_path",
    "load_mnist",
    "mnist_arrays",
    "prepare_images",
    "synthetic_mnist",
]

IMAGE_SHAPE = (28, 28)
NUM_CLASSES = 10
_MNIST_KEYS = ("x_train", "y_train", "x_test", "y_test")


@dataclass(frozen=True)
class Arrays:
    """Images as uint8 [n, 28, 28] and labels as uint8 [n]; `source` says where they came from."""

    images: np.ndarray
    labels: np.ndarray
    source: str


def synthetic_mnist(count: int, seed: int = 0) -> Arrays:
    """Deterministic MNIST-shaped data: one random stroke template per class plus noise.

    The classes are separable, so a model trained on it learns and losses fall as on MNIST.
    """
    if count <= 0:
        raise UsageError(
            f"Received an invalid `count`, expected a positive integer. Received: count={count}"
        )
    rng = np.random.default_rng(seed)
    templates = (rng.random((NUM_CLASSES, *IMAGE_SHAPE)) > 0.8).astype(np.float32)
    labels = rng.integers(0, NUM_CLASSES, size=count, dtype=np.uint8)
    noise = rng.random((count, *IMAGE_SHAPE), dtype=np.float32)
    images = np.clip(templates[labels] * 200.0 + noise * 55.0, 0, 255).astype(np.uint8)
    return Arrays(images=images, labels=labels, source=f"synthetic(seed={seed})")


def default_mnist_path() -> Path | None:
    """$TF2BENCH_MNIST, else Keras' cached mnist.npz if it exists, else None."""
    configured = os.environ.get(ENV["mnist"])
    if configured:
        return Path(configured)
    cached = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "datasets" / "mnist.npz"
    return cached if cached.exists() else None


def load_mnist(path: str | os.PathLike[str], split: str = "train") -> Arrays:
    """Reads Keras' mnist.npz (x_train, y_train, x_test, y_test) without any download."""
    if split not in ("train", "test"):
        raise UsageError(
            f"Received an invalid `split`, expected train or test. Received: {split!r}"
        )
    try:
        with np.load(path) as archive:
            missing = [key for key in _MNIST_KEYS if key not in archive.files]
            if missing:
                raise UsageError(
                    f"{path}: not an MNIST npz, expected arrays {', '.join(_MNIST_KEYS)}; "
                    f"missing {', '.join(missing)}"
                )
            images, labels = archive[f"x_{split}"], archive[f"y_{split}"]
    except (OSError, ValueError) as error:
        if isinstance(error, UsageError):
            raise
        raise UsageError(f"{path}: cannot be read as an MNIST npz ({error})") from None
    if images.ndim != 3 or images.shape[1:] != IMAGE_SHAPE or len(images) != len(labels):
        raise UsageError(
            f"{path}: expected x_{split} of shape [n, 28, 28] and as many labels; "
            f"received {images.shape} and {labels.shape}"
        )
    return Arrays(images=images.astype(np.uint8), labels=labels.astype(np.uint8), source=str(path))


def mnist_arrays(
    count: int | None = None, *, path: str | os.PathLike[str] | None = None, seed: int = 0
) -> Arrays:
    """The first `count` training examples: the real file when there is one, else synthetic."""
    path = path if path is not None else default_mnist_path()
    if path is None:
        return synthetic_mnist(count or 60000, seed)
    arrays = load_mnist(path)
    if count is None:
        return arrays
    return Arrays(arrays.images[:count], arrays.labels[:count], arrays.source)


def prepare_images(images: np.ndarray) -> np.ndarray:
    """The seed's preprocessing: float32 in [0, 1] with a channel axis, [n, 28, 28, 1]."""
    return np.expand_dims(images.astype(np.float32) / 255.0, axis=-1)
