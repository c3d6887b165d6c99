"""fit and the custom loops take the same steps; compiled loops trace once across epochs."""

from __future__ import annotations

import numpy as np
import pytest

from tf2bench.errors import UsageError
from tf2bench.workloads.models import build_model, get_weights
from tf2bench.workloads.steps import TOLERANCE
from tf2bench.workloads.training import (
    CustomLoop,
    compile_keras,
    fit_epoch,
    make_forward,
    train_dataset,
)

BATCH, STEPS = 8, 4
LOOPS = [("eager", 1), ("autograph", 1), ("xla", 1), ("autograph", 2), ("xla", 4)]


def _assert_same_weights(model, reference, what: str) -> None:
    for ours, theirs in zip(get_weights(model), get_weights(reference), strict=True):
        np.testing.assert_allclose(ours, theirs, err_msg=what, **TOLERANCE)


@pytest.mark.slow
@pytest.mark.parametrize("network", ["mlp", "linear"])
def test_custom_loops_take_the_same_steps_as_fit(network):
    dataset = train_dataset(network, BATCH, STEPS)
    fitted = compile_keras(build_model(network, "functional"), network, steps_per_execution=1)
    start = get_weights(fitted)
    fit_epoch(fitted, dataset)
    assert not np.allclose(get_weights(fitted)[0], start[0])  # the epoch did train
    for steps_per_execution in (2, 4):
        other = compile_keras(build_model(network, "functional"), network, steps_per_execution)
        fit_epoch(other, dataset)
        _assert_same_weights(other, fitted, f"fit steps_per_execution={steps_per_execution}")
    for style in ("lowlevel", "subclassed"):
        for mode, steps_per_execution in LOOPS:
            model = build_model(network, style)
            CustomLoop(model, network, mode, steps_per_execution).epoch(dataset)
            _assert_same_weights(model, fitted, f"{style} {mode} x{steps_per_execution}")


def test_a_different_learning_path_is_detected():
    dataset = train_dataset("mlp", BATCH, STEPS)
    fitted = compile_keras(build_model("mlp", "functional"), "mlp")
    fit_epoch(fitted, dataset)
    loop = CustomLoop(build_model("mlp", "functional"), "mlp", "autograph")
    loop.epoch(dataset)
    loop.epoch(dataset)  # one epoch too many
    with pytest.raises(AssertionError):
        _assert_same_weights(loop.model, fitted, "two epochs vs one")


@pytest.mark.parametrize(("mode", "steps_per_execution"), LOOPS[1:])
def test_compiled_loops_trace_once_across_epochs(mode, steps_per_execution):
    dataset = train_dataset("linear", BATCH, STEPS)
    loop = CustomLoop(build_model("linear", "sequential"), "linear", mode, steps_per_execution)
    for _ in range(3):
        loss = loop.epoch(dataset)
    assert np.isfinite(float(loss))
    counts = {name: fn.experimental_get_tracing_count() for name, fn in loop.traced().items()}
    expected = {"train_step": 1, "execute": 1} if steps_per_execution > 1 else {"train_step": 1}
    assert counts == expected


def test_eager_loop_has_nothing_to_trace_and_forward_modes_agree():
    assert CustomLoop(build_model("mlp", "lowlevel"), "mlp", "eager").traced() == {}
    model = build_model("mlp", "functional")
    x = train_dataset("mlp", BATCH, 1).get_single_element()[0]
    eager = make_forward(model, "eager")(x)
    np.testing.assert_allclose(make_forward(model, "xla")(x), eager, **TOLERANCE)


def test_bad_loop_settings_are_refused():
    model = build_model("mlp", "lowlevel")
    with pytest.raises(UsageError, match="expected autograph or xla"):
        CustomLoop(model, "mlp", "eager", steps_per_execution=4)
    with pytest.raises(UsageError, match="steps_per_execution=0"):
        CustomLoop(model, "mlp", "autograph", steps_per_execution=0)
    with pytest.raises(UsageError, match="expected one of eager, autograph, xla"):
        CustomLoop(model, "mlp", "jit")
    with pytest.raises(UsageError, match="expected a known multiple of steps_per_execution=3"):
        CustomLoop(model, "mlp", "autograph", 3).epoch(train_dataset("mlp", BATCH, STEPS))
    with pytest.raises(UsageError, match="expected a keras.Model for compile/fit"):
        compile_keras(model, "mlp")
    with pytest.raises(UsageError, match="steps=0"):
        train_dataset("mlp", BATCH, 0)
