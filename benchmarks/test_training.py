"""Training loops: `fit` (steps_per_execution 1 and larger) vs custom loops, first vs later epochs.

Every loop trains the functional model with SGD on the same `tf.data` pipeline of
STEPS_PER_EPOCH batches; one round is one epoch. The first epoch is timed on a fresh model each
round (tracing, compilation and iterator start-up included); later epochs are the steady state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import pytest

from tf2bench.harness.runner import per_item
from tf2bench.presets import pick
from tf2bench.workloads.models import NETWORKS, build_model
from tf2bench.workloads.training import CustomLoop, compile_keras, fit_epoch, train_dataset

pytestmark = pytest.mark.tf2bench_family("training")

SEED = 0
STYLE = "functional"
BATCH_SIZE = 32
NETWORK_CHOICES = pick(quick=("mlp",), standard=NETWORKS)
STEPS_PER_EPOCH = pick(quick=16, standard=16, full=64)
# Several steps per call; divides STEPS_PER_EPOCH in every preset.
MANY_STEPS = 8
FIT_STEPS_PER_EXECUTION = (1, MANY_STEPS)
# (mode, steps_per_execution): the step eager, under tf.function, under XLA, and 8 steps per call.
CUSTOM_LOOPS = (("eager", 1), ("autograph", 1), ("xla", 1), ("autograph", MANY_STEPS))
EPOCHS = ("first", "later")
# A fresh XLA-compiled CNN epoch takes seconds: few rounds keep the standard preset short.
FIRST_EPOCH_ROUNDS = pick(quick=3, standard=3, full=10)


@dataclass
class EpochRun:
    """One epoch of a training loop over a dataset; `traced` names the loop's tf.functions."""

    run_epoch: Callable[[Any], Any]
    dataset: Any
    traced: dict[str, Any] = field(default_factory=dict)

    def __call__(self) -> Any:
        return self.run_epoch(self.dataset)


def _record(harness, network: str, loop: str, mode, steps_per_execution: int, epoch: str):
    return harness.record(
        network,
        mode=mode,
        style=STYLE,
        batch_size=BATCH_SIZE,
        items_per_round=STEPS_PER_EPOCH,
        item_unit="steps",
        params={"loop": loop, "steps_per_execution": steps_per_execution, "epoch": epoch},
    )


def _measure_epoch(harness, make_run: Callable[[], EpochRun], record, epoch: str) -> None:
    """First epoch: a fresh model every round. Later epochs: the steady state of one model."""
    derive = per_item("per_sample_s", STEPS_PER_EPOCH * BATCH_SIZE)
    if epoch == "first":
        harness.measure_cold(
            make_run,
            record,
            rounds=FIRST_EPOCH_ROUNDS,
            traced_of=lambda run: run.traced,
            derive=derive,
        )
    else:
        with harness.device.scope():
            run = make_run()
        harness.measure(run, record, traced=run.traced, derive=derive)


@pytest.mark.parametrize("epoch", EPOCHS)
@pytest.mark.parametrize("steps_per_execution", FIT_STEPS_PER_EXECUTION)
@pytest.mark.parametrize("network", NETWORK_CHOICES)
def test_fit(harness, network, steps_per_execution, epoch):
    """One epoch of `model.fit` (Keras traces and runs its own train function)."""
    dataset = train_dataset(network, BATCH_SIZE, STEPS_PER_EPOCH, SEED)

    def make_run():
        model = compile_keras(build_model(network, STYLE, SEED), network, steps_per_execution)
        return EpochRun(partial(fit_epoch, model), dataset)

    record = _record(harness, network, "fit", None, steps_per_execution, epoch)
    _measure_epoch(harness, make_run, record, epoch)


@pytest.mark.parametrize("epoch", EPOCHS)
@pytest.mark.parametrize(
    ("mode", "steps_per_execution"), CUSTOM_LOOPS, ids=[f"{m}-{s}" for m, s in CUSTOM_LOOPS]
)
@pytest.mark.parametrize("network", NETWORK_CHOICES)
def test_custom_loop(harness, network, mode, steps_per_execution, epoch):
    """One epoch of a `tf.GradientTape` loop over the same dataset."""
    dataset = train_dataset(network, BATCH_SIZE, STEPS_PER_EPOCH, SEED)

    def make_run():
        loop = CustomLoop(build_model(network, STYLE, SEED), network, mode, steps_per_execution)
        return EpochRun(loop.epoch, dataset, loop.traced())

    record = _record(harness, network, "custom", mode, steps_per_execution, epoch)
    _measure_epoch(harness, make_run, record, epoch)
