"""tf.data pipelines from a PipelineSpec, the data they read, and their element checksums.

TFRecord shards are in `shards`, the NumPy-slicing limit in `limit`.

The seed's pipeline is MNIST scaled to float32 with a channel axis, `from_tensor_slices`, a
`rot90` map, `shuffle(10000)` and `batch(4)`; every other pipeline changes some of its stages:

    source -> [scalar map] -> [cache] -> [repeat] -> [shuffle] -> batch -> [vectorised map]
           -> [prefetch] -> options

Variants of one map yield the same multiset of elements (see `dataset_checksum`), so a faster
variant is never faster because it does less.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import tensorflow as tf

from tf2bench.errors import EquivalenceError, UsageError, expect_choice, expect_int
from tf2bench.workloads.augment import MAPS, batch_map, scalar_map
from tf2bench.workloads.data import IMAGE_SHAPE, mnist_arrays, prepare_images
from tf2bench.workloads.models import build_functional, loss_for
from tf2bench.workloads.shards import read_shards
from tf2bench.workloads.train_step import make_train_step

__all__ = [
    "MAPS",
    "SEED_PIPELINE",
    "SOURCES",
    "PipelineData",
    "PipelineSpec",
    "arrays_checksum",
    "assert_same_elements",
    "build_train_step",
    "build_dataset",
    "check_batch",
    "dataset_checksum",
    "make_pipeline_data",
]

SOURCES = ("memory", "tfrecord", "tfrecord_interleave", "generator")
SHUFFLE_SEED = 0


@dataclass(frozen=True)
class PipelineSpec:
    """What an input-pipeline benchmark builds; each field is one named stage choice.

    Attributes:
        source: memory (`from_tensor_slices`), tfrecord (one `TFRecordDataset` over the shards in
            order), tfrecord_interleave (the shards read in parallel by `interleave`) or
            generator (`from_generator` over the arrays).
        map: none, rot90 (the seed's) or augment (random pad-and-crop, flip, brightness).
        parallel: `num_parallel_calls=AUTOTUNE` on the map and the TFRecord parse; else sequential.
        vectorized: batch first, then map whole batches; else map every element.
        shuffle: the shuffle buffer in elements; 0 means no shuffle.
        batch_size: elements per batch.
        prefetch: `prefetch(AUTOTUNE)` at the end; else none.
        cache: `cache()` in memory right after the (scalar) map.
        optimize: tf.data's default static optimisations on; off sets
            `apply_default_optimizations=False`.
        deterministic: `Options.deterministic`; off lets parallel stages reorder elements.
    """

    source: str = "memory"
    map: str = "rot90"
    parallel: bool = False
    vectorized: bool = False
    shuffle: int = 10000
    batch_size: int = 4
    prefetch: bool = False
    cache: bool = False
    optimize: bool = True
    deterministic: bool = True

    def __post_init__(self) -> None:
        expect_choice("pipeline source", self.source, SOURCES)
        expect_choice("pipeline map", self.map, MAPS)
        for name in ("parallel", "vectorized", "prefetch", "cache", "optimize", "deterministic"):
            value = getattr(self, name)
            if not isinstance(value, bool):
                raise UsageError(
                    f"Received an invalid `{name}`, expected True or False. Received: {value!r}"
                )
        expect_int("shuffle", self.shuffle, minimum=0, meaning="a buffer size, 0 for none")
        expect_int("batch_size", self.batch_size, minimum=1, meaning="elements per batch")
        if self.vectorized and self.map == "none":
            raise UsageError(
                "Received vectorized=True with map='none', expected a map to vectorise "
                "(rot90 or augment)"
            )
        if self.vectorized and self.cache:
            raise UsageError(
                "Received vectorized=True with cache=True, expected at most one: the cache sits "
                "after the scalar map, and after a vectorised map it would replay one shuffle order"
            )

    @property
    def id(self) -> str:
        """A compact name showing every field, the pytest id (e.g. memory-rot90-shuf10000-b4)."""
        parts = [self.source, "nomap" if self.map == "none" else self.map]
        parts += [flag for flag, on in (("par", self.parallel), ("vec", self.vectorized)) if on]
        parts += [f"shuf{self.shuffle}" if self.shuffle else "noshuf", f"b{self.batch_size}"]
        parts += [flag for flag, on in (("prefetch", self.prefetch), ("cache", self.cache)) if on]
        parts += [
            flag
            for flag, off in (("noopt", self.optimize), ("nondet", self.deterministic))
            if not off
        ]
        return "-".join(parts)

    def variant(self) -> str:
        """A short human label: the seed's pipeline, or what differs from it (e.g. seed+par+b32)."""
        seed_parts = set(SEED_PIPELINE.id.split("-"))
        changes = [part for part in self.id.split("-") if part not in seed_parts]
        return "+".join(["seed", *changes])

    def params(self) -> dict[str, Any]:
        """The fields except batch_size (a record field of its own) and the variant label."""
        fields = {key: value for key, value in asdict(self).items() if key != "batch_size"}
        return {"variant": self.variant(), **fields}


SEED_PIPELINE = PipelineSpec()


@dataclass(frozen=True, eq=False)
class PipelineData:
    """The elements every pipeline reads: images float32 [n, 28, 28, 1], labels int32 [n].

    `shards` are TFRecord files holding the same elements (empty until `write_shards`).
    """

    images: np.ndarray
    labels: np.ndarray
    shards: tuple[str, ...] = ()

    @property
    def count(self) -> int:
        return len(self.labels)

    @property
    def keys(self) -> np.ndarray:
        """The element index, int64 [n]: the augment's random draws are a function of it."""
        return np.arange(self.count, dtype=np.int64)


def make_pipeline_data(count: int, seed: int = 0) -> PipelineData:
    """`count` MNIST examples (the real file if present, else synthetic) scaled as the seed does."""
    arrays = mnist_arrays(count, seed=seed)
    return PipelineData(prepare_images(arrays.images), arrays.labels.astype(np.int32))


# --- the pipeline ----------------------------------------------------------------------------


def _source(spec: PipelineSpec, data: PipelineData, keyed: bool) -> tf.data.Dataset:
    arrays = (data.images, data.labels, data.keys) if keyed else (data.images, data.labels)
    if spec.source == "memory":
        return tf.data.Dataset.from_tensor_slices(arrays)
    if spec.source == "generator":
        signature = (
            tf.TensorSpec((*IMAGE_SHAPE, 1), tf.float32),
            tf.TensorSpec((), tf.int32),
            tf.TensorSpec((), tf.int64),
        )[: len(arrays)]

        def elements() -> Iterator[tuple[np.ndarray, ...]]:
            for index in range(data.count):
                yield tuple(array[index] for array in arrays)

        return tf.data.Dataset.from_generator(elements, output_signature=signature)
    if not data.shards:
        raise UsageError(
            f"Received source={spec.source!r} with no TFRecord shards, expected data from "
            "write_shards"
        )
    return read_shards(
        data.shards,
        interleave=spec.source == "tfrecord_interleave",
        parallel=spec.parallel,
        keyed=keyed,
    )


def build_dataset(
    spec: PipelineSpec, data: PipelineData, *, repeat: bool = True
) -> tf.data.Dataset:
    """The tf.data pipeline of `spec` over `data`, yielding (images [b, 28, 28, 1], labels [b]).

    Args:
        repeat: repeat forever (benchmarks: an iterator that never runs dry, whose shuffle
            buffer never drains); False gives exactly one epoch (equivalence checks).
    """
    keyed = spec.map == "augment"
    calls = tf.data.AUTOTUNE if spec.parallel else None
    dataset = _source(spec, data, keyed)
    if spec.map != "none" and not spec.vectorized:
        dataset = dataset.map(scalar_map(spec.map), num_parallel_calls=calls)
    if spec.cache:
        dataset = dataset.cache()
    if repeat:
        dataset = dataset.repeat()
    if spec.shuffle:
        dataset = dataset.shuffle(spec.shuffle, seed=SHUFFLE_SEED)
    dataset = dataset.batch(spec.batch_size)
    if spec.vectorized:
        dataset = dataset.map(batch_map(spec.map), num_parallel_calls=calls)
    if spec.prefetch:
        dataset = dataset.prefetch(tf.data.AUTOTUNE)
    options = tf.data.Options()
    options.deterministic = spec.deterministic
    options.experimental_optimization.apply_default_optimizations = spec.optimize
    return dataset.with_options(options)


# --- equivalence -----------------------------------------------------------------------------


def check_batch(batch: Any, batch_size: int, *, what: str) -> None:
    """Cheap guard for a benchmark: a full batch of float32 [b, 28, 28, 1] images, int32 [b] labels.

    Raises:
        EquivalenceError: naming the expected and the received shapes and dtypes.
    """
    images, labels = (np.asarray(part) for part in batch)
    expected = ((batch_size, *IMAGE_SHAPE, 1), np.float32, (batch_size,), np.int32)
    received = (images.shape, images.dtype, labels.shape, labels.dtype)
    if received != expected:
        raise EquivalenceError(
            f"{what}: expected images {expected[0]} {np.dtype(expected[1])} and labels "
            f"{expected[2]} {np.dtype(expected[3])}, received images {received[0]} "
            f"{received[1]} and labels {received[2]} {received[3]}"
        )


def _rows_checksum(batches: Iterable[tuple[np.ndarray, np.ndarray]]) -> str:
    """An order-independent checksum of (image, label) rows: sha256 over sorted row digests."""
    digests = []
    for images, labels in batches:
        images = np.ascontiguousarray(images, dtype=np.float32)
        labels = np.ascontiguousarray(labels, dtype=np.int32)
        if images.ndim == 3:  # an unbatched element
            images, labels = images[None], labels[None]
        for image, label in zip(images, labels, strict=True):
            digests.append(
                hashlib.blake2b(image.tobytes() + label.tobytes(), digest_size=16).digest()
            )
    return hashlib.sha256(b"".join(sorted(digests))).hexdigest()


def dataset_checksum(dataset: tf.data.Dataset) -> str:
    """Checksum of the multiset of (image, label) elements of a finite dataset, batched or not."""
    return _rows_checksum(dataset.as_numpy_iterator())


def arrays_checksum(images: np.ndarray, labels: np.ndarray) -> str:
    """Checksum of the rows of NumPy arrays, comparable with `dataset_checksum`."""
    return _rows_checksum([(images, labels)])


def assert_same_elements(dataset: tf.data.Dataset, expected: str, *, what: str) -> None:
    """Raises EquivalenceError unless one epoch of `dataset` has the checksum `expected`."""
    received = dataset_checksum(dataset)
    if received != expected:
        raise EquivalenceError(
            f"{what}: expected the reference's elements (checksum {expected[:12]}), "
            f"received different ones (checksum {received[:12]})"
        )


# --- the consumer ----------------------------------------------------------------------------


def build_train_step(element_spec: tuple[tf.TensorSpec, ...], network: str = "cnn", seed: int = 0):
    """A compiled train step on a batch: the consumer's fixed amount of work per batch.

    Args:
        element_spec: the (images, labels) specs of the batches it takes; the signature keeps
            it from retracing on a different batch size.

    Returns:
        A tf.function (images, labels) -> loss, using the functional network from `models`.
    """
    model = build_functional(network, seed=seed)
    return make_train_step(
        model, loss_for(network), "autograph", input_signature=list(element_spec[:2])
    )
