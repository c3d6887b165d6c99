"""SavedModel and .keras round trips give the live model's outputs; bad locations fail clearly."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from tf2bench.errors import EquivalenceError, OutputError, UsageError
from tf2bench.harness.equivalence import assert_same_outputs
from tf2bench.workloads.models import (
    KERAS_STYLES,
    STYLES,
    build_model,
    example_batch,
    get_weights,
    set_weights,
)
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


def _trained_looking(network: str, style: str):
    """A model with random non-zero weights, so a reload that lost a weight would show."""
    model = build_model(network, style, seed=0)
    rng = np.random.default_rng(1)
    set_weights(model, [rng.normal(0, 0.1, w.shape).astype(np.float32) for w in get_weights(model)])
    return model


def _inputs(network: str, batch: int = 5) -> tf.Tensor:
    return tf.constant(example_batch(network, batch, seed=2)[0])


@pytest.mark.parametrize(
    ("network", "style"),
    [("mlp", style) for style in STYLES] + [("cnn", "subclassed"), ("linear", "lowlevel")],
)
def test_reloaded_savedmodel_gives_the_live_outputs(tmp_path, network, style):
    model = _trained_looking(network, style)
    live = save_savedmodel(model, network, tmp_path / "model")
    reloaded = load_savedmodel(tmp_path / "model")
    x = _inputs(network)
    expected = model(x, training=False)
    assert_same_outputs(reloaded(x), expected, what="reloaded", **TOLERANCE)
    assert_same_outputs(live(x), expected, what="live serving", **TOLERANCE)
    # Another batch size goes through the same signature (its batch axis is None).
    assert tuple(reloaded(_inputs(network, 1)).shape)[0] == 1
    assert size_on_disk(tmp_path / "model") > 0


@pytest.mark.parametrize("style", KERAS_STYLES)
def test_reloaded_keras_file_gives_the_live_outputs(tmp_path, style):
    model = _trained_looking("cnn", style)
    save_keras(model, tmp_path / "model.keras")
    reloaded = load_keras(tmp_path / "model.keras")
    assert type(reloaded) is type(model)
    x = _inputs("cnn")
    assert_same_outputs(reloaded(x), model(x), what=f"{style} .keras", **TOLERANCE)
    assert size_on_disk(tmp_path / "model.keras") == (tmp_path / "model.keras").stat().st_size


def test_a_different_model_does_not_pass_as_the_reloaded_one(tmp_path):
    save_savedmodel(_trained_looking("mlp", "functional"), "mlp", tmp_path / "model")
    other = build_model("mlp", "functional", seed=9)
    x = _inputs("mlp")
    with pytest.raises(EquivalenceError, match="differs from the reference"):
        assert_same_outputs(load_savedmodel(tmp_path / "model")(x), other(x), **TOLERANCE)


def _one_line(error: pytest.ExceptionInfo) -> str:
    message = str(error.value)
    assert "\n" not in message
    return message


def test_saving_under_a_regular_file_is_an_output_error(tmp_path):
    # Tests run as root, so permissions cannot make a folder unwritable; a file in the way can.
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("x")
    model = build_model("mlp", "functional")
    with pytest.raises(OutputError) as caught:
        save_savedmodel(model, "mlp", blocker / "model")
    assert f"{blocker} is a file" in _one_line(caught)
    with pytest.raises(OutputError) as caught:
        save_keras(model, blocker / "deeper" / "model.keras")
    assert f"{blocker} is a file" in _one_line(caught)


def test_saving_onto_a_regular_file_is_an_output_error(tmp_path):
    # The parent folder is fine; TensorFlow itself fails, and the error still reads in one line.
    target = tmp_path / "model"
    target.write_text("x")
    with pytest.raises(
        OutputError, match=r"Cannot save the SavedModel to .*not a directory"
    ) as caught:
        save_savedmodel(build_model("linear", "lowlevel"), "linear", target)
    _one_line(caught)


def test_bad_requests_are_usage_errors(tmp_path):
    with pytest.raises(UsageError, match="expected a keras.Model"):
        save_keras(build_model("mlp", "lowlevel"), tmp_path / "model.keras")
    with pytest.raises(UsageError, match=r"expected \*\.keras"):
        save_keras(build_model("mlp", "functional"), tmp_path / "model.h5")
    with pytest.raises(UsageError, match="Cannot load a SavedModel") as caught:
        load_savedmodel(tmp_path / "missing")
    _one_line(caught)
    with pytest.raises(UsageError, match="expected a file"):
        load_keras(tmp_path / "missing.keras")
    with pytest.raises(UsageError, match="expected one of mlp, cnn, linear"):
        ServingModule(build_model("mlp", "functional"), "resnet")


def test_saved_models_folder_is_removed_afterwards():
    with saved_models_folder() as folder:
        save_savedmodel(build_model("linear", "functional"), "linear", folder / "model")
        save_keras(build_model("linear", "functional"), folder / "model.keras")
        assert (folder / "model" / "saved_model.pb").is_file()
    assert not folder.exists()
    with pytest.raises(RuntimeError), saved_models_folder() as failing:
        (failing / "partial").write_text("x")
        raise RuntimeError("a benchmark failed half way")
    assert not failing.exists()
