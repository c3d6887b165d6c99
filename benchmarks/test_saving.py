"""Saving: SavedModel and `.keras` save/load time, size on disk, and serving latency of the
reloaded SavedModel signature vs the same signature on the live model.

Everything is written under one temporary folder per module, removed when the module ends.
"""

from __future__ import annotations

import itertools
from functools import partial

import pytest
import tensorflow as tf

from tf2bench.harness.equivalence import assert_same_outputs
from tf2bench.harness.runner import per_item
from tf2bench.presets import pick
from tf2bench.workloads.models import KERAS_STYLES, NETWORKS, STYLES, build_model, example_batch
from tf2bench.workloads.saving import (
    ServingModule,
    load_keras,
    load_savedmodel,
    save_keras,
    save_savedmodel,
    saved_models_folder,
    size_on_disk,
)
from tf2bench.workloads.steps import TOLERANCE

pytestmark = pytest.mark.tf2bench_family("saving")

SEED = 0
NETWORK_CHOICES = pick(quick=("mlp",), standard=NETWORKS)
SAVEDMODEL_STYLES = pick(quick=("lowlevel", "functional"), standard=STYLES)
KERAS_FILE_STYLES = pick(quick=("functional",), standard=KERAS_STYLES)
SERVE_BATCHES = pick(quick=(1,), standard=(1, 256), full=(1, 32, 256))
SERVED = ("reloaded", "live")
ROUNDS = pick(quick=3, standard=5, full=10)
CHECK_BATCH = 8


@pytest.fixture(scope="module")
def saved_root():
    """A temporary folder for this module's saved models; removed with its contents afterwards."""
    with saved_models_folder() as folder:
        yield folder


@pytest.fixture
def fresh_path(saved_root, request):
    """A function returning a new, unused path under the module's folder on every call."""
    counter = itertools.count()
    stem = request.node.name.replace("[", "_").replace("]", "")
    return lambda suffix="": saved_root / f"{stem}_{next(counter)}{suffix}"


def _check_reloaded(reloaded, live, network: str, what: str) -> None:
    """The reloaded model must compute what the live one computes (one cheap batch)."""
    x = tf.constant(example_batch(network, CHECK_BATCH, SEED + 1)[0])
    assert_same_outputs(reloaded(x), live(x, training=False), what=what, **TOLERANCE)


def _record(harness, network, style, op, size=None, batch_size=None, item_unit="calls"):
    return harness.record(
        network,
        style=style,
        batch_size=batch_size,
        items_per_round=batch_size or 1,
        item_unit=item_unit,
        metrics={"size_on_disk_bytes": float(size)} if size is not None else {},
        params={"op": op},
    )


def _size_of_last(paths: list):
    """A Derive: the size on disk of the last model written."""
    return lambda measurement: {"size_on_disk_bytes": float(size_on_disk(paths[-1]))}


@pytest.mark.parametrize("style", SAVEDMODEL_STYLES)
@pytest.mark.parametrize("network", NETWORK_CHOICES)
def test_savedmodel_save(harness, fresh_path, network, style):
    """`tf.saved_model.save` of a fresh model (tracing the serving signature included)."""
    paths = []

    def fresh_save():
        paths.append(fresh_path())
        return partial(save_savedmodel, build_model(network, style, SEED), network, paths[-1])

    record = _record(harness, network, style, "savedmodel_save", item_unit="saves")
    harness.measure_cold(fresh_save, record, rounds=ROUNDS, derive=_size_of_last(paths))


@pytest.mark.parametrize("style", SAVEDMODEL_STYLES)
@pytest.mark.parametrize("network", NETWORK_CHOICES)
def test_savedmodel_load(harness, fresh_path, network, style):
    """`tf.saved_model.load`; the reloaded signature is checked against the live model first."""
    with harness.device.scope():
        model = build_model(network, style, SEED)
        path = fresh_path()
        save_savedmodel(model, network, path)
        _check_reloaded(load_savedmodel(path), model, network, f"{network} {style} SavedModel")
    record = _record(harness, network, style, "savedmodel_load", size_on_disk(path), None, "loads")
    harness.measure_cold(lambda: partial(load_savedmodel, path), record, rounds=ROUNDS)


@pytest.mark.parametrize("style", KERAS_FILE_STYLES)
@pytest.mark.parametrize("network", NETWORK_CHOICES)
def test_keras_save(harness, fresh_path, network, style):
    """`model.save('....keras')` of a fresh model."""
    paths = []

    def fresh_save():
        paths.append(fresh_path(".keras"))
        return partial(save_keras, build_model(network, style, SEED), paths[-1])

    record = _record(harness, network, style, "keras_save", item_unit="saves")
    harness.measure_cold(fresh_save, record, rounds=ROUNDS, derive=_size_of_last(paths))


@pytest.mark.parametrize("style", KERAS_FILE_STYLES)
@pytest.mark.parametrize("network", NETWORK_CHOICES)
def test_keras_load(harness, fresh_path, network, style):
    """`keras.saving.load_model` of a `.keras` file, checked against the live model first."""
    with harness.device.scope():
        model = build_model(network, style, SEED)
        path = fresh_path(".keras")
        save_keras(model, path)
        _check_reloaded(load_keras(path), model, network, f"{network} {style} .keras")
    record = _record(harness, network, style, "keras_load", size_on_disk(path), None, "loads")
    harness.measure_cold(lambda: partial(load_keras, path), record, rounds=ROUNDS)


@pytest.mark.parametrize("batch_size", SERVE_BATCHES)
@pytest.mark.parametrize("served", SERVED)
@pytest.mark.parametrize("style", SAVEDMODEL_STYLES)
@pytest.mark.parametrize("network", NETWORK_CHOICES)
def test_serve(harness, fresh_path, network, style, served, batch_size):
    """One batch through the reloaded `serving_default` signature, or through the same
    tf.function on the live model; the output must match the live model's."""
    with harness.device.scope():
        model = build_model(network, style, SEED)
        x = tf.constant(example_batch(network, batch_size, SEED)[0])
        expected = model(x, training=False)
        live = ServingModule(model, network)
        if served == "reloaded":
            path = fresh_path()
            save_savedmodel(model, network, path)
            serve, traced = load_savedmodel(path), {}
        else:
            serve, traced = live, live.traced()
    record = _record(harness, network, style, f"serve_{served}", None, batch_size, "examples")

    def check(output):
        assert_same_outputs(
            output, expected, what=f"{network} {style} serve_{served} vs live", **TOLERANCE
        )

    derive = per_item("per_sample_s", batch_size)
    harness.measure(partial(serve, x), record, traced=traced, check=check, derive=derive)
