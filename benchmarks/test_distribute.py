"""Devices and scale: one train step under no strategy, OneDevice, Mirrored and two workers.

Every benchmark trains the same network on the same global batch, so examples/s compare
directly: `none` vs `one_device` is the cost of the strategy machinery itself, mirrored over
1, 2, 4 replicas (logical CPUs here, GPUs where there are several) is the scaling curve, and
`multi_worker` (two local processes) vs mirrored over 2 replicas is the cost of leaving the
process. One round is STEPS_PER_ROUND steps; step time = round time / STEPS_PER_ROUND.
"""

from __future__ import annotations

import dataclasses

import pytest

from tf2bench.errors import MeasurementError
from tf2bench.harness.equivalence import assert_same_outputs
from tf2bench.harness.runtime import LOGICAL_CPUS, logical_cpu_count
from tf2bench.harness.workers import LocalCluster, worker_command
from tf2bench.presets import pick
from tf2bench.pytest_plugin import SETTINGS
from tf2bench.workloads.distribute import TOLERANCE, DistributeSpec, build_distributed_step

pytestmark = pytest.mark.tf2bench_family("distribute")

NETWORKS = pick(quick=("mlp",), standard=("mlp", "cnn"))
GLOBAL_BATCH = pick(quick=64, standard=64, full=256)
STEPS_PER_ROUND = 10
REPLICAS = (1, 2, 4)
WORKERS = 2

# Filled during the session: the loss after one round without a strategy (the equivalence
# reference). Scaling efficiency is computed by the report from the records.
_reference_loss: dict[tuple, float] = {}


def _spec(device, network: str, strategy: str, replicas: int = 1) -> DistributeSpec:
    return DistributeSpec(
        network, strategy, replicas, GLOBAL_BATCH, STEPS_PER_ROUND, device=device.kind
    )


def _key(spec: DistributeSpec) -> tuple:
    return (spec.device, spec.network, spec.global_batch, spec.steps_per_round)


def _require(device, replicas: int) -> None:
    """Skips with a reason when this machine has fewer than `replicas` devices of the kind."""
    if device.kind == "cpu":
        available = logical_cpu_count()
        if available < replicas:
            pytest.skip(
                f"needs {replicas} logical CPU devices, TensorFlow has {available}: the tf2bench "
                f"plugin splits the CPU into {LOGICAL_CPUS} only while TensorFlow has not yet "
                f"initialised its devices"
            )
        return
    import tensorflow as tf

    available = len(tf.config.list_physical_devices("GPU"))
    if available < replicas:
        pytest.skip(f"needs {replicas} GPUs, {available} visible")


def _check(spec: DistributeSpec):
    """Checks a first round's loss against the same round without any strategy."""
    key = _key(spec)
    if key not in _reference_loss:
        reference = dataclasses.replace(spec, strategy="none", replicas=1)
        _reference_loss[key] = float(build_distributed_step(reference)())
    expected = _reference_loss[key]
    what = f"{spec.network} {spec.strategy} x{spec.replicas} vs no strategy"
    return lambda output: assert_same_outputs(float(output), expected, what=what, **TOLERANCE)


def _record(harness, spec: DistributeSpec):
    return harness.record(
        spec.network,
        mode="autograph",
        batch_size=spec.global_batch,
        items_per_round=spec.global_batch * spec.steps_per_round,
        item_unit="examples",
        metrics={"replicas": float(spec.replicas)},
        params={"strategy": spec.strategy, "steps_per_round": spec.steps_per_round},
    )


def _measure_in_process(harness, spec: DistributeSpec) -> None:
    check = _check(spec)
    with harness.device.scope():
        step = build_distributed_step(spec)
    assert step.replicas == spec.replicas, (
        f"{step.replicas} replicas in sync, expected {spec.replicas}"
    )
    record = _record(harness, spec)
    harness.measure(step, record, traced=step.traced(), check=check)


@pytest.mark.parametrize("replicas", REPLICAS)
@pytest.mark.parametrize("network", NETWORKS)
def test_mirrored(harness, network, replicas):
    """MirroredStrategy over 1, 2, 4 replicas at the same global batch: the scaling curve."""
    _require(harness.device, replicas)
    _measure_in_process(harness, _spec(harness.device, network, "mirrored", replicas))


@pytest.mark.parametrize("strategy", ("none", "one_device"))
@pytest.mark.parametrize("network", NETWORKS)
def test_single_device(harness, network, strategy):
    """No strategy vs OneDeviceStrategy: what the strategy machinery costs on one device."""
    _measure_in_process(harness, _spec(harness.device, network, strategy))


@pytest.mark.parametrize("network", NETWORKS)
def test_multi_worker(harness, pytestconfig, network):
    """MultiWorkerMirroredStrategy over two local worker processes, one replica each.

    A round tells both workers (one line on stdin) to run STEPS_PER_ROUND synchronised steps and
    waits for both; every wait is bounded and the workers are always stopped.
    """
    device = harness.device
    _require(device, WORKERS if device.kind == "gpu" else 1)
    spec = _spec(device, network, "multi_worker", WORKERS)
    check = _check(spec)
    record = _record(harness, spec)
    threads = pytestconfig.stash[SETTINGS].threads
    command = worker_command(network, GLOBAL_BATCH, STEPS_PER_ROUND, threads=threads)
    try:
        with LocalCluster(command, workers=WORKERS, device=device.kind) as cluster:
            harness.measure(cluster.run_round, record, traced={"workers": cluster}, check=check)
    except MeasurementError as error:  # a worker that failed to start: one line, no traceback
        pytest.fail(str(error), pytrace=False)
