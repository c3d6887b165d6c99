"""tf.distribute workloads and local worker processes: equivalence, placement, bounded failures.

Marked with the distribute family, so the plugin splits the CPU into logical devices before
TensorFlow starts, exactly as for the benchmarks.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import time
from pathlib import Path

import pytest
from test_netns import exposed, listening_sockets

from tf2bench.errors import MeasurementError, UsageError
from tf2bench.harness.runtime import LOGICAL_CPUS, logical_cpu_count
from tf2bench.harness.workers import LocalCluster, free_ports, tf_config, worker_command
from tf2bench.workloads.distribute import TOLERANCE, DistributeSpec, build_distributed_step

pytestmark = pytest.mark.tf2bench_family("distribute")

SMALL = {"network": "mlp", "global_batch": 16, "steps_per_round": 2}

FAKE_WORKER = """
import json, signal, sys, time

mode = sys.argv[1]

def reply(**payload):
    print("tf2bench-worker " + json.dumps(payload), flush=True)

if mode == "exit":
    print("boom: cannot start", file=sys.stderr, flush=True)
    sys.exit(3)
if mode == "hang":
    time.sleep(600)
if mode == "error":
    reply(event="error", message="UsageError: bad network")
    sys.exit(1)
if mode == "stubborn":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
print("chatter that is not part of the protocol", flush=True)
reply(event="ready")
for line in iter(sys.stdin.readline, ""):
    if line.strip() == "run":
        reply(event="done", loss=0.5, tracing_count=1)
    elif line.strip() == "quit" and mode != "stubborn":
        break
if mode == "stubborn":
    time.sleep(600)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def fake_worker(tmp_path):
    script = tmp_path / "fake_worker.py"
    script.write_text(FAKE_WORKER)
    return lambda mode: [sys.executable, str(script), mode]


# ---- the workloads --------------------------------------------------------------------------


def test_the_plugin_split_the_cpu_before_tensorflow_started_and_the_fingerprint_says_so():
    from tf2bench.harness.environment import collect_runtime

    assert logical_cpu_count() >= LOGICAL_CPUS
    assert collect_runtime()["logical_cpu_devices"] == logical_cpu_count()


@pytest.mark.slow
def test_every_strategy_computes_the_losses_of_no_strategy():
    reference = build_distributed_step(DistributeSpec(strategy="none", **SMALL))
    expected = [float(reference()) for _ in range(2)]
    for strategy, replicas in [
        ("one_device", 1),
        ("mirrored", 1),
        ("mirrored", 2),
        ("mirrored", 4),
    ]:
        step = build_distributed_step(DistributeSpec(strategy=strategy, replicas=replicas, **SMALL))
        assert step.replicas == replicas
        losses = [float(step()) for _ in range(2)]
        assert losses == pytest.approx(expected, rel=TOLERANCE["rtol"]), (strategy, replicas)
        assert step.fn.experimental_get_tracing_count() == 1


def test_mirrored_replicas_run_on_distinct_logical_cpus():
    import tensorflow as tf

    step = build_distributed_step(DistributeSpec(strategy="mirrored", replicas=4, **SMALL))
    per_replica = step.strategy.run(lambda: tf.identity(1.0))
    devices = [value.device for value in step.strategy.experimental_local_results(per_replica)]
    assert [device.rsplit("/", 1)[-1] for device in devices] == [
        f"device:CPU:{i}" for i in range(4)
    ]


def test_ops_outside_a_strategy_stay_on_the_first_cpu():
    """The split does not move the other families' work: their ops still run on /CPU:0."""
    import tensorflow as tf

    from tf2bench.harness.devices import Device
    from tf2bench.workloads.steps import StepSpec, build_step

    assert tf.constant(1.0).device.endswith("CPU:0")
    with Device("cpu").scope():
        loss = build_step(StepSpec("mlp_train", "autograph", batch_size=8))()
    assert loss.device.endswith("CPU:0")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"replicas": 0}, "`replicas`, expected a positive integer. Received: replicas=0"),
        ({"strategy": "none", "replicas": 2}, "replicas=2 for strategy 'none', expected 1"),
        ({"global_batch": 30, "replicas": 4}, "global_batch=30, expected a multiple of replicas=4"),
        ({"strategy": "horovod"}, "invalid strategy, expected one of none, one_device"),
        ({"network": "linear"}, "invalid network, expected one of mlp, cnn"),
    ],
)
def test_a_bad_spec_is_refused_in_one_line(fields, message):
    with pytest.raises(UsageError) as error:
        DistributeSpec(**fields)
    assert message in str(error.value) and "\n" not in str(error.value)


# ---- the worker processes -------------------------------------------------------------------


def test_free_ports_are_distinct_and_can_be_bound():
    ports = free_ports(3)
    assert len(set(ports)) == 3
    for port in ports:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))


def test_each_worker_gets_the_whole_cluster_and_its_own_index():
    config = json.loads(tf_config([1111, 2222], 1))
    assert config == {
        "cluster": {"worker": ["127.0.0.1:1111", "127.0.0.1:2222"]},
        "task": {"type": "worker", "index": 1},
    }


def test_rounds_reach_every_worker_and_close_stops_them(fake_worker):
    with LocalCluster(fake_worker("ok"), workers=2, start_timeout_s=30) as cluster:
        pids = cluster.pids
        assert cluster.run_round() == 0.5
        assert cluster.run_round() == 0.5
        assert cluster.experimental_get_tracing_count() == 1
    assert len(pids) == 2 and not any(_alive(pid) for pid in pids)
    with pytest.raises(MeasurementError, match="workers are not running"):
        cluster.run_round()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("mode", "message"),
    [
        pytest.param(
            "exit",
            r"worker \d \(pid \d+\) exited \(code 3\) before it was ready; .*boom",
            id="exit",
        ),
        pytest.param(
            "error", r"worker \d \(pid \d+\) failed to start: UsageError: bad network", id="error"
        ),
        pytest.param(
            "hang",
            r"worker 0 .* did not answer within 2 s to start; worker 1 .* did not",
            id="hang",
        ),
    ],
)
def test_a_worker_that_fails_to_start_is_reported_in_bounded_time(fake_worker, mode, message):
    cluster = LocalCluster(fake_worker(mode), workers=2, start_timeout_s=2, grace_s=1)
    started = time.monotonic()
    with pytest.raises(MeasurementError, match=message) as error:
        cluster.start()
    assert time.monotonic() - started < 30, "a failed start must not hang"
    assert "\n" not in str(error.value)
    pids = [int(pid) for pid in _pids_in(str(error.value))]
    assert cluster.pids == [] and not any(_alive(pid) for pid in pids)


def _pids_in(message: str) -> list[str]:
    return [part.split(")")[0] for part in message.split("(pid ")[1:]]


def test_a_worker_that_ignores_sigterm_is_killed(fake_worker):
    cluster = LocalCluster(fake_worker("stubborn"), workers=1, start_timeout_s=30, grace_s=0.5)
    with cluster:
        pids = cluster.pids
        assert cluster.run_round() == 0.5
    assert not _alive(pids[0])


def test_a_worker_killed_mid_run_fails_the_round_and_nothing_is_left(fake_worker):
    with LocalCluster(fake_worker("ok"), workers=2, start_timeout_s=30, grace_s=1) as cluster:
        pids = cluster.pids
        os.kill(pids[1], signal.SIGKILL)
        with pytest.raises(
            MeasurementError, match=r"worker 1 .* exited \(code -9\) before it was done"
        ):
            cluster.run_round()
    assert not any(_alive(pid) for pid in pids)


@pytest.mark.slow
def test_real_workers_train_like_one_process_and_a_killed_worker_leaves_nothing(tmp_path):
    """Two MultiWorkerMirroredStrategy processes: same loss as no strategy; then kill one."""
    expected = float(build_distributed_step(DistributeSpec(strategy="none", **SMALL))())
    command = worker_command("mlp", SMALL["global_batch"], SMALL["steps_per_round"])
    with LocalCluster(command, workers=2, round_timeout_s=120) as cluster:
        pids = cluster.pids
        scratch = Path(cluster._scratch.name)
        assert cluster.run_round() == pytest.approx(expected, rel=TOLERANCE["rtol"])
        for pid in pids:  # TensorFlow's gRPC servers listen on 0.0.0.0 of a loopback-only netns
            assert listening_sockets(pid) and exposed(pid) == [], f"worker {pid} is exposed"
        os.kill(pids[1], signal.SIGKILL)
        started = time.monotonic()
        with pytest.raises(MeasurementError, match=r"worker 1 .* exited \(code -9\)"):
            cluster.run_round()
        assert time.monotonic() - started < 60, "the dead worker must be noticed, not waited out"
    assert not any(_alive(pid) for pid in pids)
    assert not scratch.exists(), "the killed worker's AutoGraph files must go with its TMPDIR"
