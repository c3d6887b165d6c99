"""Input pipelines: spec validation, element equivalence, TFRecord round trip, the limit."""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from tf2bench.errors import EquivalenceError, UsageError
from tf2bench.harness.consumer import BatchPuller
from tf2bench.records.schema import load_results
from tf2bench.workloads.augment import augment_batch, augment_image
from tf2bench.workloads.limit import NumpyBatches
from tf2bench.workloads.pipelines import (
    MAPS,
    SEED_PIPELINE,
    SOURCES,
    PipelineSpec,
    arrays_checksum,
    assert_same_elements,
    build_dataset,
    build_train_step,
    check_batch,
    dataset_checksum,
    make_pipeline_data,
)
from tf2bench.workloads.shards import read_shards, write_shards

COUNT = 90  # not a multiple of the batch sizes or shard count: partial batches and shards
SHARDS = 4


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return write_shards(make_pipeline_data(COUNT), tmp_path_factory.mktemp("shards"), SHARDS)


def _checksum(spec: PipelineSpec, data) -> str:
    return dataset_checksum(build_dataset(spec, data, repeat=False))


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "expected_words"),
    [
        ({"shuffle": -1}, ("shuffle", "integer >= 0", "-1")),
        ({"batch_size": 0}, ("batch_size", "integer >= 1", "0")),
        ({"batch_size": 2.5}, ("batch_size", "integer >= 1", "2.5")),
        ({"source": "parquet"}, ("source", "memory, tfrecord", "'parquet'")),
        ({"map": "blur"}, ("map", "none, rot90, augment", "'blur'")),
        ({"prefetch": "yes"}, ("prefetch", "True or False", "'yes'")),
        ({"vectorized": True, "map": "none"}, ("vectorized=True", "map='none'", "rot90")),
        ({"vectorized": True, "cache": True}, ("vectorized=True", "cache=True", "at most one")),
    ],
)
def test_invalid_spec_is_refused_with_one_line(change, expected_words):
    with pytest.raises(UsageError) as caught:
        dataclasses.replace(SEED_PIPELINE, **change)
    message = str(caught.value)
    assert "\n" not in message
    assert "Received" in message and "expected" in message
    for word in expected_words:
        assert word in message


def test_tfrecord_source_without_shards_is_refused():
    spec = dataclasses.replace(SEED_PIPELINE, source="tfrecord")
    with pytest.raises(UsageError, match="no TFRecord shards"):
        build_dataset(spec, make_pipeline_data(8))


def test_id_shows_every_field_and_variant_names_the_changes():
    spec = PipelineSpec(
        "generator",
        "none",
        parallel=True,
        shuffle=0,
        batch_size=256,
        prefetch=True,
        cache=True,
        optimize=False,
        deterministic=False,
    )
    assert spec.id == "generator-nomap-par-noshuf-b256-prefetch-cache-noopt-nondet"
    assert SEED_PIPELINE.id == "memory-rot90-shuf10000-b4"
    assert SEED_PIPELINE.variant() == "seed"
    assert (
        dataclasses.replace(SEED_PIPELINE, parallel=True, batch_size=32).variant() == "seed+par+b32"
    )
    params = spec.params()
    assert "batch_size" not in params and params["source"] == "generator"
    assert params["variant"] == spec.variant()


# --- equivalence -----------------------------------------------------------------------------

_STAGE_VARIANTS = [
    {},
    {"parallel": True, "deterministic": False},
    {"vectorized": True},
    {"vectorized": True, "parallel": True},
    {"shuffle": 0, "batch_size": 32},
    {"shuffle": 7, "batch_size": 1, "prefetch": True},
    {"cache": True, "optimize": False},
]


@pytest.mark.slow
@pytest.mark.parametrize("map_name", MAPS)
def test_variants_of_one_map_yield_the_same_elements(data, map_name):
    base = PipelineSpec(map=map_name, shuffle=16, batch_size=8)
    reference = _checksum(base, data)
    # Every source with the base stages, and every stage variant with some source.
    variants = [{"source": source} for source in SOURCES[1:]] + [
        {"source": SOURCES[index % len(SOURCES)], **change}
        for index, change in enumerate(_STAGE_VARIANTS)
        if not (map_name == "none" and change.get("vectorized"))
    ]
    for change in variants:
        spec = dataclasses.replace(base, **change)
        assert_same_elements(build_dataset(spec, data, repeat=False), reference, what=spec.id)


def test_no_map_yields_exactly_the_numpy_rows(data):
    spec = PipelineSpec(map="none", shuffle=32, batch_size=8)
    assert _checksum(spec, data) == arrays_checksum(data.images, data.labels)


def test_a_different_pipeline_fails_the_check(data):
    plain = _checksum(PipelineSpec(map="none"), data)
    rotated = build_dataset(PipelineSpec(map="rot90"), data, repeat=False)
    with pytest.raises(EquivalenceError, match="expected the reference's elements"):
        assert_same_elements(rotated, plain, what="rot90 vs none")
    assert _checksum(PipelineSpec(map="augment"), data) not in (
        plain,
        _checksum(PipelineSpec(map="rot90"), data),
    )


def test_a_pipeline_that_drops_an_element_fails_the_check(data):
    reference = _checksum(SEED_PIPELINE, data)
    short = build_dataset(SEED_PIPELINE, data, repeat=False).unbatch().skip(1).batch(4)
    with pytest.raises(EquivalenceError):
        assert_same_elements(short, reference, what="one element short")


def test_augment_changes_images_and_keeps_their_range(data):
    images, keys = tf.constant(data.images[:32]), tf.constant(data.keys[:32])
    batch = augment_batch(images, keys).numpy()
    one_by_one = np.stack([augment_image(images[i], keys[i]).numpy() for i in range(32)])
    np.testing.assert_array_equal(batch, one_by_one)
    assert batch.min() >= 0.0 and batch.max() <= 1.0
    changed = [not np.array_equal(batch[i], data.images[i]) for i in range(32)]
    assert sum(changed) >= 28  # a few draws are the identity (no shift, no flip, ~0 brightness)


def test_check_batch_refuses_a_wrong_batch(data):
    check_batch((data.images[:4], data.labels[:4]), 4, what="ok")
    with pytest.raises(EquivalenceError, match="expected images"):
        check_batch((data.images[:3], data.labels[:3]), 4, what="short")
    with pytest.raises(EquivalenceError, match="float64"):
        check_batch((data.images[:4].astype(np.float64), data.labels[:4]), 4, what="dtype")


# --- TFRecord shards and the limit -----------------------------------------------------------


def test_tfrecord_shards_round_trip(tmp_path):
    source = make_pipeline_data(COUNT, seed=3)
    written = write_shards(source, tmp_path / "out", SHARDS)
    assert [path.rsplit("/", 1)[1] for path in written.shards] == [
        f"mnist-{i:05d}-of-{SHARDS:05d}.tfrecord" for i in range(SHARDS)
    ]
    sizes = [sum(1 for _ in tf.data.TFRecordDataset(path)) for path in written.shards]
    assert sizes == [23, 23, 22, 22]
    expected = arrays_checksum(source.images, source.labels)
    for interleave, parallel in itertools.product((False, True), (False, True)):
        elements = read_shards(written.shards, interleave=interleave, parallel=parallel, keyed=True)
        keys = sorted(int(key) for _, _, key in elements.as_numpy_iterator())
        assert keys == list(range(COUNT))
        assert dataset_checksum(elements.map(lambda image, label, key: (image, label))) == expected


def test_numpy_limit_slices_the_same_bytes_and_wraps_around(data):
    batches = NumpyBatches(data, 32)
    first, second, third = next(batches), next(batches), next(batches)
    np.testing.assert_array_equal(first[0], data.images[:32])
    np.testing.assert_array_equal(third[1], np.concatenate([data.labels[64:], data.labels[:6]]))
    assert all(len(batch[1]) == 32 for batch in (first, second, third))
    first[0][...] = -1.0  # a copy: writing it leaves the source intact
    assert data.images.min() >= 0.0
    one_pass = [next(NumpyBatches(data, COUNT))]
    assert arrays_checksum(*one_pass[0]) == _checksum(PipelineSpec(map="none"), data)


# --- first batch vs steady state, and the consumer's step ------------------------------------


def test_first_batch_fills_the_shuffle_buffer_and_later_rounds_do_not(data):
    produced = []

    def counting_source():
        for index in range(data.count):
            produced.append(index)
            yield data.images[index], data.labels[index]

    signature = (tf.TensorSpec((28, 28, 1), tf.float32), tf.TensorSpec((), tf.int32))
    dataset = (
        tf.data.Dataset.from_generator(counting_source, output_signature=signature)
        .repeat()
        .shuffle(50)
        .batch(4)
        .with_options(_no_optimisations())
    )
    puller = BatchPuller(lambda: iter(dataset), batches_per_call=5)
    puller.open()
    after_first = len(produced)
    assert after_first >= 50 + 3  # the whole buffer, then a refill per element out but the last
    puller()
    assert len(produced) - after_first == 5 * 4  # steady state: one element in per element out


def _no_optimisations() -> tf.data.Options:
    options = tf.data.Options()
    options.experimental_optimization.apply_default_optimizations = False
    return options


def test_train_step_takes_any_batch_size_without_retracing(data):
    dataset = build_dataset(PipelineSpec(shuffle=0, batch_size=8), data)
    step = build_train_step(dataset.element_spec, "mlp")
    images, labels = next(iter(dataset))
    first = float(step(images, labels))
    step(*next(NumpyBatches(data, 3)))
    assert step.experimental_get_tracing_count() == 1
    assert np.isfinite(first) and first > 0


# --- end to end: ratios with -k, shards removed ----------------------------------------------

BENCHMARKS = Path(__file__).parents[1] / "benchmarks" / "test_input_pipeline.py"


@pytest.mark.slow
def test_every_selected_pipeline_carries_its_ratio_and_shards_are_removed(pytester, monkeypatch):
    """`-k` deselects the limit benchmarks: the ratio is then measured on demand, in-session."""
    scratch = pytester.mkdir("scratch")
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.setenv("TF2BENCH_PRESET", "quick")
    results = pytester.path / "results.json"
    outcome = pytester.runpytest_subprocess(
        str(BENCHMARKS),
        "-p",
        "no:cacheprovider",
        "-k",
        "test_pipeline and (b4 or tfrecord_interleave)",
        "--tf2bench-device=cpu",
        "--benchmark-only",
        "--benchmark-min-rounds=2",
        "--benchmark-max-time=0.05",
        f"--benchmark-json={results}",
    )
    outcome.assert_outcomes(passed=2)
    run = load_results(results)
    assert [b.record.workload for b in run.benchmarks] == ["pipeline", "pipeline"]
    for benchmark in run.benchmarks:
        metrics = benchmark.record.metrics
        assert 0 < metrics["ratio_to_limit"] < 1, benchmark.name
        assert metrics["batches_per_s"] == pytest.approx(
            benchmark.record.throughput_per_s / benchmark.record.batch_size
        )
        assert metrics["first_batch_s"] > 0
    assert list(scratch.iterdir()) == []
