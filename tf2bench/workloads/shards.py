"""TFRecord shards of pipeline data: written once per session, read one record at a time."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import tensorflow as tf

from tf2bench.errors import UsageError, expect_int
from tf2bench.workloads.data import IMAGE_SHAPE

if TYPE_CHECKING:
    from tf2bench.workloads.pipelines import PipelineData

__all__ = ["read_shards", "write_shards"]

_FEATURES = {
    "pixels": tf.io.FixedLenFeature([], tf.string),
    "label": tf.io.FixedLenFeature([], tf.int64),
    "key": tf.io.FixedLenFeature([], tf.int64),
}


def write_shards(data: PipelineData, folder: str | Path, num_shards: int) -> PipelineData:
    """Writes the elements as tf.train.Example records into `num_shards` files, round-robin.

    Pixels are stored as the original uint8 bytes and scaled again when read, as MNIST
    TFRecords usually are; the round trip is exact (x / 255 in float32 both ways).

    Returns:
        `data` with `shards` set to the files written, in order.
    """
    expect_int("num_shards", num_shards, minimum=1, meaning="TFRecord files")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = [str(folder / f"mnist-{i:05d}-of-{num_shards:05d}.tfrecord") for i in range(num_shards)]
    pixels = np.rint(data.images[..., 0] * 255.0).astype(np.uint8)
    writers = [tf.io.TFRecordWriter(path) for path in paths]
    try:
        for index in range(data.count):
            example = tf.train.Example(
                features=tf.train.Features(
                    feature={
                        "pixels": _bytes_feature(pixels[index].tobytes()),
                        "label": _int_feature(int(data.labels[index])),
                        "key": _int_feature(index),
                    }
                )
            )
            writers[index % num_shards].write(example.SerializeToString())
    finally:
        for writer in writers:
            writer.close()
    return dataclasses.replace(data, shards=tuple(paths))


def _bytes_feature(value: bytes) -> tf.train.Feature:
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))


def _int_feature(value: int) -> tf.train.Feature:
    return tf.train.Feature(int64_list=tf.train.Int64List(value=[value]))


def read_shards(
    paths: Iterable[str], *, interleave: bool, parallel: bool, keyed: bool
) -> tf.data.Dataset:
    """The shards as (image, label[, key]) elements, parsed one record at a time.

    Args:
        interleave: read the files concurrently (`interleave`, AUTOTUNE parallelism) instead of
            one after another.
        parallel: parse with `num_parallel_calls=AUTOTUNE`.
        keyed: keep the element key (the augment needs it).
    """
    paths = list(paths)
    if not paths:
        raise UsageError("Received no TFRecord shards, expected files written by write_shards")
    if interleave:
        records = tf.data.Dataset.from_tensor_slices(paths).interleave(
            tf.data.TFRecordDataset,
            cycle_length=len(paths),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
    else:
        records = tf.data.TFRecordDataset(paths)

    def parse(record):
        example = tf.io.parse_single_example(record, _FEATURES)
        pixels = tf.reshape(tf.io.decode_raw(example["pixels"], tf.uint8), (*IMAGE_SHAPE, 1))
        image = tf.cast(pixels, tf.float32) / 255.0
        label = tf.cast(example["label"], tf.int32)
        return (image, label, example["key"]) if keyed else (image, label)

    return records.map(parse, num_parallel_calls=tf.data.AUTOTUNE if parallel else None)
