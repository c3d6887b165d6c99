"""The four model styles compute the same function from the same weights (outputs and gradients)."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from tf2bench.errors import EquivalenceError, UsageError
from tf2bench.harness.equivalence import assert_same_outputs
from tf2bench.workloads import models
from tf2bench.workloads.keras_compat import keras
from tf2bench.workloads.models import (
    KERAS_STYLES,
    NETWORKS,
    STYLES,
    LowLevelModel,
    SeededLayer,
    SubclassedModel,
    build_functional,
    build_model,
    copy_weights,
    example_batch,
    get_weights,
    outputs_and_gradients,
    set_weights,
)
from tf2bench.workloads.steps import TOLERANCE

BATCH = 6


def _random_weights(model, seed: int = 42) -> list[np.ndarray]:
    """Random values for every weight, biases included (initial biases are all zero)."""
    rng = np.random.default_rng(seed)
    return [rng.normal(0.0, 0.1, w.shape).astype(np.float32) for w in get_weights(model)]


def _batch(network: str):
    return tuple(tf.constant(array) for array in example_batch(network, BATCH, seed=3))


def _assert_same_function(candidate, reference, network: str, what: str) -> None:
    """Outputs, loss and every gradient of `candidate` match `reference` on one batch."""
    x, y = _batch(network)
    outputs, loss, gradients = outputs_and_gradients(candidate, network, x, y)
    ref_outputs, ref_loss, ref_gradients = outputs_and_gradients(reference, network, x, y)
    assert_same_outputs(outputs, ref_outputs, what=f"{what} outputs", **TOLERANCE)
    assert_same_outputs(loss, ref_loss, what=f"{what} loss", **TOLERANCE)
    assert_same_outputs(gradients, ref_gradients, what=f"{what} gradients", **TOLERANCE)


@pytest.fixture(scope="module", params=NETWORKS)
def source(request):
    """A functional model of each network holding random weights (non-zero biases)."""
    network = request.param
    model = build_functional(network, seed=7)
    set_weights(model, _random_weights(model))
    return network, model


@pytest.mark.parametrize("style", STYLES)
def test_styles_compute_the_same_function_after_copying_weights(source, style):
    network, reference = source
    model = build_model(network, style, seed=0)
    # Before the copy the models differ, so the check below is not passing by accident.
    with pytest.raises(EquivalenceError):
        _assert_same_function(model, reference, network, f"{network} {style} before copy")
    copy_weights(reference, model)
    _assert_same_function(model, reference, network, f"{network} {style}")


@pytest.mark.parametrize("network", NETWORKS)
def test_weights_copy_across_every_pair_of_styles(network):
    built = {style: build_model(network, style, seed=0) for style in STYLES}
    set_weights(built["lowlevel"], _random_weights(built["lowlevel"], seed=5))
    for source_style, target_style in zip(STYLES, STYLES[1:], strict=False):
        copy_weights(built[source_style], built[target_style])
    for style in STYLES[:-1]:
        _assert_same_function(built[style], built["subclassed"], network, f"{network} {style}")


@pytest.mark.parametrize("network", NETWORKS)
def test_same_seed_gives_identical_weights_in_every_style(network):
    expected = get_weights(build_functional(network, seed=3))
    for style in STYLES:
        for ours, theirs in zip(get_weights(build_model(network, style, 3)), expected, strict=True):
            np.testing.assert_array_equal(ours, theirs)
    different = get_weights(build_functional(network, seed=4))
    assert not np.array_equal(different[0], expected[0])


@pytest.mark.parametrize("network", ["mlp", "cnn"])
def test_a_model_without_its_relu_fails_the_check(monkeypatch, network):
    reference = build_functional(network, seed=7)
    set_weights(reference, _random_weights(reference))
    # Deliberately different: the lowlevel forward pass forgets every ReLU.
    monkeypatch.setattr(models, "_activate", lambda x, activation: x)
    broken = build_model(network, "lowlevel", seed=0)
    copy_weights(reference, broken)
    with pytest.raises(EquivalenceError, match="outputs"):
        _assert_same_function(broken, reference, network, f"{network} without relu")


class _ShiftedOutput(tf.Module):
    """A model whose output is off by a small constant: same weights, different function."""

    def __init__(self, model, shift: float) -> None:
        super().__init__()
        self.model, self.shift = model, shift

    def __call__(self, x, training=False):
        return self.model(x, training=training) + self.shift


class _DoubledGradient(tf.Module):
    """Same outputs as `model`, but every gradient flowing back through it is doubled."""

    def __init__(self, model) -> None:
        super().__init__()
        self.model = model

    def __call__(self, x, training=False):
        @tf.custom_gradient
        def identity_with_doubled_gradient(y):
            return tf.identity(y), lambda upstream: 2.0 * upstream

        return identity_with_doubled_gradient(self.model(x, training=training))


def test_a_shifted_output_fails_the_check(source):
    network, reference = source
    model = build_model(network, "sequential", seed=0)
    copy_weights(reference, model)
    with pytest.raises(EquivalenceError, match="outputs"):
        _assert_same_function(_ShiftedOutput(model, 1e-3), reference, network, "shifted")


def test_same_outputs_but_different_gradients_fails_the_check(source):
    network, reference = source
    model = build_model(network, "subclassed", seed=0)
    copy_weights(reference, model)
    with pytest.raises(EquivalenceError, match="gradients"):
        _assert_same_function(_DoubledGradient(model), reference, network, "doubled grads")


def test_styles_are_what_they_claim():
    lowlevel = build_model("mlp", "lowlevel")
    assert isinstance(lowlevel, tf.Module) and not isinstance(lowlevel, keras.Model)
    assert all(isinstance(v, tf.Variable) for v in lowlevel.trainable_variables)
    for style in KERAS_STYLES:
        assert isinstance(build_model("mlp", style), keras.Model)
    assert isinstance(build_model("mlp", "sequential"), keras.Sequential)
    unbuilt = SubclassedModel("cnn")
    assert not any(block.weights for block in unbuilt.blocks)  # created in `build`
    unbuilt.build((None, 28, 28, 1))
    assert len(unbuilt.trainable_variables) == 6
    assert all(isinstance(block, SeededLayer) for block in unbuilt.blocks)
    assert isinstance(build_model("linear", "lowlevel"), LowLevelModel)


@pytest.mark.parametrize("network", NETWORKS)
def test_output_shapes(network):
    x, _ = _batch(network)
    units = 1 if network == "linear" else 10
    for style in STYLES:
        assert tuple(build_model(network, style)(x).shape) == (BATCH, units)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("resnet", "functional"),
            r"network, expected one of mlp, cnn, linear\. Received: 'resnet'",
        ),
        (
            ("mlp", "keras"),
            r"style, expected one of lowlevel, sequential, functional, subclassed\. "
            r"Received: 'keras'",
        ),
    ],
)
def test_unknown_names_are_refused_in_one_line(args, message):
    with pytest.raises(UsageError, match=message) as caught:
        build_model(*args)
    assert "\n" not in str(caught.value)


def test_weights_of_another_architecture_are_refused():
    with pytest.raises(UsageError, match=r"expected the shapes of cnn_lowlevel"):
        copy_weights(build_model("mlp", "functional"), build_model("cnn", "lowlevel"))


def test_example_batch_refuses_a_bad_batch_size():
    with pytest.raises(UsageError, match="batch_size=0"):
        example_batch("mlp", 0)
