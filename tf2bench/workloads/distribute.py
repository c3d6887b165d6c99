"""Training steps under tf.distribute: no strategy, OneDevice, Mirrored and MultiWorkerMirrored.

Every variant trains the same seeded network on the same global batch drawn from a
`tf.data` iterator (distributed with `strategy.experimental_distribute_dataset`), so their
losses agree and a difference in time is the strategy's. One call runs `steps_per_round`
steps, which amortises the per-call cost (and, across worker processes, the IPC) as a custom
training loop does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import tensorflow as tf

from tf2bench.errors import UsageError, expect_choice
from tf2bench.workloads.data import mnist_arrays, prepare_images
from tf2bench.workloads.models import build_functional
from tf2bench.workloads.train_step import compile_fn, make_optimizer, per_iterator, train_step

__all__ = [
    "NETWORKS",
    "STRATEGIES",
    "TOLERANCE",
    "DistributeSpec",
    "DistributedStep",
    "build_distributed_step",
    "make_strategy",
    "replica_devices",
]

NETWORKS = ("mlp", "cnn")  # the networks that take MNIST-shaped images
STRATEGIES = ("none", "one_device", "mirrored", "multi_worker")
# Replicas sum per-replica partial losses and gradients in another order than one device.
TOLERANCE = {"rtol": 1e-4, "atol": 1e-5}


@dataclass(frozen=True)
class DistributeSpec:
    """What a distribute benchmark runs.

    Attributes:
        network: mlp | cnn.
        strategy: one of STRATEGIES.
        replicas: replicas in sync (1 for none / one_device; workers for multi_worker).
        global_batch: examples per step over all replicas; each replica gets global/replicas.
        steps_per_round: training steps per call.
        device: cpu | gpu (logical CPUs, or physical GPUs, hold the replicas).
    """

    network: str = "mlp"
    strategy: str = "mirrored"
    replicas: int = 1
    global_batch: int = 64
    steps_per_round: int = 10
    device: str = "cpu"
    seed: int = 0

    def __post_init__(self) -> None:
        expect_choice("network", self.network, NETWORKS)
        expect_choice("strategy", self.strategy, STRATEGIES)
        expect_choice("device", self.device, ("cpu", "gpu"))
        for name in ("replicas", "global_batch", "steps_per_round"):
            value = getattr(self, name)
            if not isinstance(value, int) or value <= 0:
                raise UsageError(
                    f"Received an invalid `{name}`, expected a positive integer. "
                    f"Received: {name}={value!r}"
                )
        if self.strategy in ("none", "one_device") and self.replicas != 1:
            raise UsageError(
                f"Received replicas={self.replicas} for strategy {self.strategy!r}, expected 1"
            )
        if self.global_batch % self.replicas:
            raise UsageError(
                f"Received global_batch={self.global_batch}, expected a multiple of "
                f"replicas={self.replicas} so every replica gets the same batch"
            )


def replica_devices(kind: str, replicas: int) -> list[str]:
    """The device names of `replicas` replicas: /CPU:0.. (logical) or /GPU:0.. (physical)."""
    return [f"/{kind.upper()}:{index}" for index in range(replicas)]


def _mirrored(devices: list[str]) -> tf.distribute.Strategy:
    # NOTE: every MirroredStrategy numbers its collective groups from the same base, so two of
    # them with different device sets in one process collide ("joining a group with size 4,
    # but that group has size 2"). TensorFlow's own strategy_combinations moves the base the
    # same way; without that attribute the public, collective-free reduction is used instead.
    if hasattr(tf.distribute.MirroredStrategy, "_collective_key_base"):
        tf.distribute.MirroredStrategy._collective_key_base += 100_000
        return tf.distribute.MirroredStrategy(devices)
    return tf.distribute.MirroredStrategy(
        devices, cross_device_ops=tf.distribute.ReductionToOneDevice()
    )


def make_strategy(spec: DistributeSpec) -> tf.distribute.Strategy | None:
    """The tf.distribute strategy of `spec`; None for 'none'.

    'multi_worker' reads the cluster from $TF_CONFIG, so it is built only in a worker process.
    """
    if spec.strategy == "none":
        return None
    if spec.strategy == "one_device":
        return tf.distribute.OneDeviceStrategy(replica_devices(spec.device, 1)[0])
    if spec.strategy == "mirrored":
        return _mirrored(replica_devices(spec.device, spec.replicas))
    return tf.distribute.MultiWorkerMirroredStrategy()


def _dataset(spec: DistributeSpec) -> tf.data.Dataset:
    """Global batches of the first steps_per_round x global_batch examples, repeated."""
    count = spec.global_batch * spec.steps_per_round
    arrays = mnist_arrays(count, seed=spec.seed)
    images = prepare_images(arrays.images[:count])
    labels = arrays.labels[:count].astype(np.int32)
    dataset = tf.data.Dataset.from_tensor_slices((images, labels)).repeat()
    dataset = dataset.batch(spec.global_batch, drop_remainder=True).prefetch(tf.data.AUTOTUNE)
    options = tf.data.Options()
    # In-memory data has no files to shard by; each worker takes its part of every batch.
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


@dataclass
class DistributedStep:
    """A built round: calling it runs `steps_per_round` steps and returns the last global loss."""

    spec: DistributeSpec
    strategy: tf.distribute.Strategy | None
    fn: Callable[[Any], Any]
    iterator: Any
    model: Any

    @property
    def replicas(self) -> int:
        return self.strategy.num_replicas_in_sync if self.strategy is not None else 1

    @property
    def items_per_round(self) -> int:
        return self.spec.global_batch * self.spec.steps_per_round

    def traced(self) -> dict[str, Any]:
        return {"train_step": self.fn}

    def __call__(self) -> tf.Tensor:
        loss = None
        for _ in range(self.spec.steps_per_round):
            loss = self.fn(self.iterator)
        return loss


def build_distributed_step(spec: DistributeSpec) -> DistributedStep:
    """Builds the strategy, the seeded model and optimizer in its scope, and the step."""
    from tf2bench.workloads.keras_compat import per_example_loss as make_per_example_loss

    strategy = make_strategy(spec)
    device = replica_devices(spec.device, 1)[0]
    with strategy.scope() if strategy is not None else tf.device(device):
        model = build_functional(spec.network, seed=spec.seed)
        optimizer = make_optimizer(model)
    per_example_loss = make_per_example_loss(from_logits=True)

    def global_mean_loss(labels, logits):
        # Scaled by the global batch: summing the replicas' losses gives the global mean.
        return tf.nn.compute_average_loss(
            per_example_loss(labels, logits), global_batch_size=spec.global_batch
        )

    dataset = _dataset(spec)
    if strategy is not None:
        dataset = strategy.experimental_distribute_dataset(dataset)
    step = per_iterator(train_step(model, optimizer, global_mean_loss), strategy)
    return DistributedStep(spec, strategy, compile_fn(step, "autograph"), iter(dataset), model)
