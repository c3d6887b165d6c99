"""Input pipelines: what each tf.data stage costs or buys, and how far a pipeline is from the limit.

The matrix is one factor at a time around the seed's pipeline (PipelineSpec()), plus a map
study at batch 32 (parallel / vectorised, with tf.data's static optimisations off so that
"sequential" and "no prefetch" mean what they say, and on as users get them) and a consumer
study (a compiled CNN train step per batch). Every round pulls ELEMENTS_PER_ROUND elements
from one persistent iterator over a repeated dataset; the first batch is timed on its own.
"""

from __future__ import annotations

import dataclasses
import math
import tempfile

import pytest
import tensorflow as tf

from tf2bench.errors import EquivalenceError
from tf2bench.harness.consumer import BatchPuller, ConsumerLoop, RatioToLimit, steady_throughput
from tf2bench.harness.copy_bound import CopyBound
from tf2bench.presets import pick
from tf2bench.tempdirs import temp_prefix
from tf2bench.workloads.data import IMAGE_SHAPE
from tf2bench.workloads.iteration import ITERATIONS, iteration_round
from tf2bench.workloads.limit import NumpyBatches
from tf2bench.workloads.pipelines import (
    SEED_PIPELINE,
    PipelineData,
    PipelineSpec,
    build_dataset,
    build_train_step,
    check_batch,
    make_pipeline_data,
)
from tf2bench.workloads.shards import write_shards

pytestmark = pytest.mark.tf2bench_family("input_pipeline")

DATA_COUNT = pick(quick=10000, standard=60000)
SMOKE_DATA_COUNT = 2048  # plain `pytest` times nothing: small data keeps the smoke run short
NUM_SHARDS = 4
ELEMENTS_PER_ROUND = 2048  # the same for every batch size, so round times compare directly
# The limit copies 2048 elements in ~0.5 ms: rounds that short are at the mercy of the
# scheduler on a busy machine, and every ratio divides by the limit, so its rounds are longer.
LIMIT_ROUND_SCALE = 16
CONSUMER_BATCH = 32
CONSUMER_STEPS = 16
CONSUMER_NETWORK = "cnn"


def _variants(base: PipelineSpec, *changes: dict) -> list[PipelineSpec]:
    return [dataclasses.replace(base, **change) for change in changes]


def _unique(specs: list[PipelineSpec]) -> dict[str, PipelineSpec]:
    return {spec.id: spec for spec in specs}


_SEED = SEED_PIPELINE
_NOOPT = {"optimize": False}
# One factor at a time around the seed's pipeline.
ONE_FACTOR = [_SEED] + _variants(
    _SEED,
    {"source": "tfrecord"},
    {"source": "tfrecord_interleave"},
    {"source": "generator"},
    {"map": "none"},
    {"map": "augment"},
    {"parallel": True},
    {"vectorized": True},
    {"shuffle": 0},
    {"shuffle": 1000},
    {"batch_size": 32},
    {"batch_size": 256},
    {"prefetch": True},
    {"cache": True},
    {"optimize": False},
    {"deterministic": False},
)


def _map_study(map_name: str) -> list[PipelineSpec]:
    base = dataclasses.replace(_SEED, map=map_name, batch_size=CONSUMER_BATCH)
    return _variants(
        base,
        _NOOPT,
        {"parallel": True, **_NOOPT},
        {"vectorized": True, **_NOOPT},
        {"vectorized": True, "parallel": True, **_NOOPT},
        {},
        {"vectorized": True, "parallel": True, "prefetch": True},
    )


_COMBINATIONS = [
    PipelineSpec("tfrecord_interleave", "rot90", parallel=True, batch_size=32, prefetch=True),
    PipelineSpec("memory", "rot90", batch_size=32, prefetch=True, cache=True),
]
_QUICK_PIPELINES = [
    _SEED,
    PipelineSpec(
        "tfrecord_interleave", "augment", parallel=True, shuffle=1000, batch_size=32, prefetch=True
    ),
    PipelineSpec(
        "generator", "none", shuffle=0, batch_size=256, optimize=False, deterministic=False
    ),
    PipelineSpec("tfrecord", "rot90", vectorized=True, batch_size=32, optimize=False),
    PipelineSpec("memory", "rot90", batch_size=32, cache=True),
]
PIPELINES = _unique(
    pick(
        quick=_QUICK_PIPELINES,
        standard=ONE_FACTOR + _map_study("rot90") + _map_study("augment") + _COMBINATIONS,
    )
)
LIMIT_BATCHES = pick(quick=(4, 32), standard=(4, 32, 256))
ITERATION_BATCHES = pick(quick=(4,), standard=(4, 32, 256))


def _consumer_feeds(map_name: str) -> list[PipelineSpec]:
    base = PipelineSpec(map=map_name, batch_size=CONSUMER_BATCH, optimize=False)
    return _variants(
        base,
        {},
        {"parallel": True},
        {"prefetch": True},
        {"parallel": True, "prefetch": True},
        {"optimize": True},
        {"optimize": True, "vectorized": True, "parallel": True, "prefetch": True},
    )


_LIMIT_FEED = "numpy_slices"
CONSUMERS: dict[str, PipelineSpec | None] = {
    _LIMIT_FEED: None,
    **_unique(
        pick(
            quick=[_consumer_feeds("rot90")[0], _consumer_feeds("rot90")[3]],
            standard=_consumer_feeds("rot90") + _consumer_feeds("augment"),
        )
    ),
}


def batches_per_round(batch_size: int) -> int:
    return max(2, ELEMENTS_PER_ROUND // batch_size)


class SessionLimits:
    """The limit's throughput (elements/s) per batch size, measured once per pytest session.

    The limit benchmark stores what it measured; a pipeline whose batch size has no limit yet
    (the limit deselected with -k, or another batch size) measures it on first use, with the
    same persistent NumPy iterator and rounds of the same size.
    """

    def __init__(self, data: PipelineData) -> None:
        self.data = data
        self.per_s: dict[int, float] = {}

    def get(self, batch_size: int) -> float:
        if batch_size not in self.per_s:
            puller = _limit_puller(self.data, batch_size)
            puller.open()
            self.per_s[batch_size] = steady_throughput(puller, puller.batches_per_call * batch_size)
        return self.per_s[batch_size]

    def storing(self, batch_size: int):
        """An after-hook for the limit benchmark: keeps its measured throughput for this session."""

        def store(call, record, name) -> dict[str, float]:
            if record.throughput_per_s:
                self.per_s[batch_size] = record.throughput_per_s
            return {}

        return store


def _limit_puller(data: PipelineData, batch_size: int, clock=None) -> BatchPuller:
    batches = batches_per_round(batch_size) * LIMIT_ROUND_SCALE
    return BatchPuller(lambda: NumpyBatches(data, batch_size), batches, clock)


@pytest.fixture(scope="session")
def pipeline_data(request) -> PipelineData:
    smoke = request.config.getoption("benchmark_disable", default=False)
    return make_pipeline_data(SMOKE_DATA_COUNT if smoke else DATA_COUNT)


@pytest.fixture(scope="session")
def sharded_data(pipeline_data):
    """The same elements in TFRecord shards, written once per session and removed afterwards."""
    with tempfile.TemporaryDirectory(prefix=temp_prefix("shards")) as folder:
        yield write_shards(pipeline_data, folder, NUM_SHARDS)


@pytest.fixture(scope="session")
def limits(pipeline_data) -> SessionLimits:
    return SessionLimits(pipeline_data)


@pytest.fixture(scope="session")
def copy_bound(pipeline_data) -> CopyBound:
    """The memory-copy bound of one round's bytes: the upper bound on every pipeline."""
    element_bytes = (
        pipeline_data.images.nbytes + pipeline_data.labels.nbytes
    ) // pipeline_data.count
    return CopyBound(element_bytes, ELEMENTS_PER_ROUND)


def _host_only(harness) -> None:
    if harness.device.kind != "cpu":
        pytest.skip("a tf.data pipeline alone runs on the host: its numbers are the cpu ones")


def _data_for(spec: PipelineSpec, request, pipeline_data: PipelineData) -> PipelineData:
    if spec.source.startswith("tfrecord"):
        return request.getfixturevalue("sharded_data")
    return pipeline_data


def _ratio(limits: SessionLimits, batch_size: int) -> RatioToLimit:
    return RatioToLimit(lambda: limits.get(batch_size), batch_size)


@pytest.mark.parametrize("batch_size", LIMIT_BATCHES)
def test_limit(harness, pipeline_data, limits, copy_bound, batch_size):
    """The limit: the same bytes sliced batch by batch from NumPy; every ratio divides by it."""
    _host_only(harness)
    puller = _limit_puller(pipeline_data, batch_size, harness.clock)
    first, first_s = puller.open()
    check_batch(first, batch_size, what="numpy limit")
    record = harness.record(
        "limit",
        batch_size=batch_size,
        items_per_round=puller.batches_per_call * batch_size,
        item_unit="elements",
        metrics={"first_batch_s": first_s},
        params={"variant": _LIMIT_FEED, "source": "numpy", "iteration": "next"},
    )
    hooks = (limits.storing(batch_size), RatioToLimit(None, batch_size), copy_bound.hook)
    harness.with_extra(after_hooks=hooks).measure(puller, record)


@pytest.mark.parametrize("pipeline", list(PIPELINES))
def test_pipeline(harness, request, pipeline_data, limits, copy_bound, pipeline):
    """The pipeline alone: a persistent iterator in the steady state; first batch timed apart."""
    _host_only(harness)
    spec = PIPELINES[pipeline]
    data = _data_for(spec, request, pipeline_data)
    dataset = build_dataset(spec, data)
    puller = BatchPuller(lambda: iter(dataset), batches_per_round(spec.batch_size), harness.clock)
    first, first_s = puller.open()
    check_batch(first, spec.batch_size, what=spec.id)
    if spec.cache:
        # NOTE: the first epoch runs the map and fills the cache; the steady state reads it.
        for _ in range(math.ceil(data.count / spec.batch_size)):
            puller.next()
    record = harness.record(
        "pipeline",
        batch_size=spec.batch_size,
        items_per_round=puller.batches_per_call * spec.batch_size,
        item_unit="elements",
        metrics={"first_batch_s": first_s},
        params={**spec.params(), "iteration": "next"},
    )
    hooks = [_ratio(limits, spec.batch_size), copy_bound.hook]
    harness.with_extra(after_hooks=hooks).measure(puller, record)


@pytest.mark.parametrize("batch_size", ITERATION_BATCHES)
@pytest.mark.parametrize("iteration", ITERATIONS)
def test_iteration(harness, pipeline_data, limits, iteration, batch_size):
    """Python vs C++ iteration over the same dataset: the per-batch Python cost.

    The seed's source and batch without map or shuffle: the map's ~0.1 ms per element would
    hide the loop's cost, and for / reduce refill no 10000-element buffer every round.
    """
    _host_only(harness)
    spec = dataclasses.replace(_SEED, map="none", shuffle=0, batch_size=batch_size)
    batches = batches_per_round(batch_size)
    dataset = build_dataset(spec, pipeline_data)
    call, traced = iteration_round(iteration, dataset, batches)
    record = harness.record(
        "iteration",
        batch_size=batch_size,
        items_per_round=batches * batch_size,
        item_unit="elements",
        params={**spec.params(), "iteration": iteration},
    )

    def check(count) -> None:
        check_batch(next(iter(dataset)), batch_size, what=f"iteration {iteration}")
        if int(count) != batches:
            raise EquivalenceError(
                f"iteration {iteration}: expected {batches} batches per round, received {count}"
            )

    harness.with_extra(after_hooks=[_ratio(limits, batch_size)]).measure(
        call, record, traced=traced, check=check
    )


@pytest.mark.parametrize("feed", list(CONSUMERS))
def test_consumer(harness, request, pipeline_data, limits, feed):
    """A compiled CNN train step per batch fed by a pipeline: overlap, input-bound fraction."""
    spec = CONSUMERS[feed]
    if spec is None:
        element_spec = (
            tf.TensorSpec((None, *IMAGE_SHAPE, 1), tf.float32),
            tf.TensorSpec((None,), tf.int32),
        )
        puller = _limit_puller(pipeline_data, CONSUMER_BATCH, harness.clock)
        params = {"variant": _LIMIT_FEED, "source": "numpy"}
    else:
        dataset = build_dataset(spec, _data_for(spec, request, pipeline_data))
        element_spec = dataset.element_spec
        puller = BatchPuller(lambda: iter(dataset), 1, harness.clock)
        params = spec.params()
    with harness.device.scope():
        step = build_train_step(element_spec, CONSUMER_NETWORK)
    first, first_s = puller.open()
    check_batch(first, CONSUMER_BATCH, what=f"consumer feed {feed}")
    loop = ConsumerLoop(puller.next, step, CONSUMER_STEPS, harness.clock)
    record = harness.record(
        "consumer",
        batch_size=CONSUMER_BATCH,
        items_per_round=CONSUMER_STEPS * CONSUMER_BATCH,
        item_unit="elements",
        metrics={"first_batch_s": first_s},
        params={**params, "iteration": "next", "consumer": f"{CONSUMER_NETWORK}_train"},
    )
    harness = harness.with_extra(probes=[loop], after_hooks=[_ratio(limits, CONSUMER_BATCH)])
    harness.measure(loop, record, traced={"train_step": step})
