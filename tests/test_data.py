"""MNIST-shaped data: synthetic by default, the real loader on a file the test writes."""

from __future__ import annotations

import numpy as np
import pytest

from tf2bench.errors import UsageError
from tf2bench.settings import ENV
from tf2bench.workloads.data import (
    load_mnist,
    mnist_arrays,
    prepare_images,
    synthetic_mnist,
)


def write_mnist(path, n_train=12, n_test=5, seed=3):
    rng = np.random.default_rng(seed)
    arrays = {
        "x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, n_train, dtype=np.uint8),
        "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    np.savez(path, **arrays)
    return arrays


def test_synthetic_is_deterministic_and_mnist_shaped():
    a, b = synthetic_mnist(64, seed=1), synthetic_mnist(64, seed=1)
    assert a.images.shape == (64, 28, 28) and a.images.dtype == np.uint8
    assert a.labels.shape == (64,) and set(a.labels) <= set(range(10))
    np.testing.assert_array_equal(a.images, b.images)
    assert not np.array_equal(a.images, synthetic_mnist(64, seed=2).images)


def test_synthetic_classes_are_separable():
    data = synthetic_mnist(2000, seed=0)
    means = np.stack([data.images[data.labels == c].mean(axis=0) for c in range(10)])
    nearest = np.argmin(
        ((data.images[:, None].astype(np.float32) - means[None]) ** 2).sum(axis=(2, 3)), axis=1
    )
    assert (nearest == data.labels).mean() > 0.95


def test_loader_reads_a_written_file(tmp_path):
    arrays = write_mnist(tmp_path / "mnist.npz")
    train = load_mnist(tmp_path / "mnist.npz")
    test = load_mnist(tmp_path / "mnist.npz", split="test")
    np.testing.assert_array_equal(train.images, arrays["x_train"])
    np.testing.assert_array_equal(test.labels, arrays["y_test"])
    assert train.source.endswith("mnist.npz")


def test_mnist_arrays_prefers_the_file_named_in_the_environment(tmp_path, monkeypatch):
    arrays = write_mnist(tmp_path / "mnist.npz")
    monkeypatch.setenv(ENV["mnist"], str(tmp_path / "mnist.npz"))
    data = mnist_arrays(5)
    np.testing.assert_array_equal(data.images, arrays["x_train"][:5])


def test_mnist_arrays_falls_back_to_synthetic(monkeypatch, tmp_path):
    monkeypatch.delenv(ENV["mnist"], raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))  # no cached mnist.npz there
    assert mnist_arrays(7).source.startswith("synthetic")


def test_loader_refuses_a_file_without_mnist_arrays(tmp_path):
    np.savez(tmp_path / "other.npz", weights=np.zeros(3))
    with pytest.raises(UsageError, match="missing x_train, y_train, x_test, y_test"):
        load_mnist(tmp_path / "other.npz")


def test_loader_refuses_a_file_that_is_not_npz(tmp_path):
    (tmp_path / "mnist.npz").write_text("not a zip")
    with pytest.raises(UsageError, match="cannot be read as an MNIST npz"):
        load_mnist(tmp_path / "mnist.npz")


def test_prepare_images_matches_the_seed():
    images = np.full((2, 28, 28), 255, dtype=np.uint8)
    prepared = prepare_images(images)
    assert prepared.shape == (2, 28, 28, 1) and prepared.dtype == np.float32
    assert prepared.max() == 1.0
