"""SavedModel and `.keras` export and reload for any model style, with errors at the boundary.

SavedModel goes through `tf.saved_model.save` with one explicit serving signature
(`serving_default`, input `inputs` [None, *input shape] float32, output `outputs`), the same
for every style, so the lowlevel `tf.Module` and the Keras models are saved and served alike.
`.keras` files are Keras' own format and need a keras.Model.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import tensorflow as tf

from tf2bench.errors import OutputError, UsageError, expect_choice
from tf2bench.tempdirs import temp_prefix
from tf2bench.workloads.keras_compat import keras
from tf2bench.workloads.models import INPUT_SHAPES, NETWORKS

__all__ = [
    "SIGNATURE_KEY",
    "ReloadedSavedModel",
    "ServingModule",
    "load_keras",
    "load_savedmodel",
    "save_keras",
    "save_savedmodel",
    "saved_models_folder",
    "size_on_disk",
]

SIGNATURE_KEY = "serving_default"
INPUT_NAME = "inputs"
OUTPUT_NAME = "outputs"


class ServingModule(tf.Module):
    """Wraps a model of any style with a serving tf.function of a fixed input signature.

    `serve(x)` on a live model and the reloaded `serving_default` signature run the same graph,
    which makes their latencies comparable.
    """

    def __init__(self, model, network: str) -> None:
        super().__init__(name="serving")
        expect_choice("network", network, NETWORKS)
        self.model = model
        signature = tf.TensorSpec([None, *INPUT_SHAPES[network]], tf.float32, name=INPUT_NAME)
        self.serve = tf.function(self._serve, input_signature=[signature])

    def _serve(self, x):
        return {OUTPUT_NAME: self.model(x, training=False)}

    def __call__(self, x: tf.Tensor) -> tf.Tensor:
        """Serves one batch on the live model: the outputs of `serve`."""
        return self.serve(x)[OUTPUT_NAME]

    def traced(self) -> dict[str, Any]:
        """The tf.functions whose tracing counts the retrace guard watches."""
        return {"serve": self.serve}


class ReloadedSavedModel:
    """A SavedModel loaded with `tf.saved_model.load`, served through its signature."""

    def __init__(self, loaded: Any, path: str) -> None:
        signatures = loaded.signatures
        if SIGNATURE_KEY not in signatures:
            raise UsageError(
                f"{path}: expected a SavedModel with a {SIGNATURE_KEY!r} signature, received "
                f"signatures {sorted(signatures) or 'none'}"
            )
        # NOTE: a signature holds the loaded object weakly; keeping `loaded` keeps it alive.
        self.loaded = loaded
        self.signature = signatures[SIGNATURE_KEY]

    def __call__(self, x: tf.Tensor) -> tf.Tensor:
        """Serves one batch through the reloaded `serving_default` signature."""
        return self.signature(**{INPUT_NAME: x})[OUTPUT_NAME]


def _prepared(path: str | os.PathLike[str], what: str) -> Path:
    """Creates the parent folder of `path`; refuses a location that cannot be written."""
    path = Path(path)
    existing = next(folder for folder in (path.parent, *path.parent.parents) if folder.exists())
    if not existing.is_dir():
        raise OutputError(
            f"Cannot save the {what} to {path}: expected a writable folder, "
            f"but {existing} is a file"
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(
            f"Cannot save the {what} to {path}: expected a writable folder, received "
            f"{error.strerror or error} at {error.filename or path.parent}"
        ) from None
    return path


def _save_failed(path: Path, what: str, error: Exception) -> OutputError:
    """A one-line OutputError for a failure inside TensorFlow or Keras while saving."""
    reason = getattr(error, "message", None) or getattr(error, "strerror", None) or str(error)
    reason = " ".join(str(reason).split())
    return OutputError(f"Cannot save the {what} to {path}: {reason}")


def save_savedmodel(model, network: str, path: str | os.PathLike[str]) -> ServingModule:
    """`tf.saved_model.save` of `model` with the `serving_default` signature.

    Returns:
        The ServingModule that was saved (its `serve` is the live twin of the signature).

    Raises:
        OutputError: the folder cannot be created or written.
    """
    path = _prepared(path, "SavedModel")
    module = ServingModule(model, network)
    try:
        tf.saved_model.save(module, str(path), signatures={SIGNATURE_KEY: module.serve})
    except (OSError, tf.errors.OpError) as error:
        raise _save_failed(path, "SavedModel", error) from None
    return module


def load_savedmodel(path: str | os.PathLike[str]) -> ReloadedSavedModel:
    """`tf.saved_model.load` of a SavedModel written by `save_savedmodel`.

    Raises:
        UsageError: there is no SavedModel at `path`, or it lacks the serving signature.
    """
    try:
        loaded = tf.saved_model.load(str(path))
    except (OSError, tf.errors.OpError) as error:
        reason = " ".join(str(getattr(error, "message", error)).split())
        raise UsageError(f"Cannot load a SavedModel from {path}: {reason}") from None
    return ReloadedSavedModel(loaded, str(path))


def _require_keras(model) -> keras.Model:
    if not isinstance(model, keras.Model):
        raise UsageError(
            f"Received a {type(model).__name__}, expected a keras.Model for the .keras format "
            "(save the lowlevel style as a SavedModel)"
        )
    return model


def save_keras(model, path: str | os.PathLike[str]) -> None:
    """`model.save(path)` in Keras' `.keras` format.

    Raises:
        UsageError: not a keras.Model, or `path` does not end in `.keras`.
        OutputError: the folder cannot be created or written.
    """
    _require_keras(model)
    if not str(path).endswith(".keras"):
        raise UsageError(
            f"Received a .keras path without the suffix, expected *.keras. Received: {path}"
        )
    path = _prepared(path, ".keras model")
    try:
        model.save(str(path))
    except OSError as error:
        raise _save_failed(path, ".keras model", error) from None


def load_keras(path: str | os.PathLike[str]) -> keras.Model:
    """`keras.saving.load_model` (the tf2bench custom classes are registered on import)."""
    if not Path(path).is_file():
        raise UsageError(f"Cannot load a .keras model from {path}: expected a file, there is none")
    return keras.saving.load_model(str(path))


def size_on_disk(path: str | os.PathLike[str]) -> int:
    """Bytes of a file, or of every file under a folder (a SavedModel)."""
    path = Path(path)
    if path.is_file():
        return path.stat().st_size
    return sum(item.stat().st_size for item in path.rglob("*") if item.is_file())


@contextlib.contextmanager
def saved_models_folder() -> Iterator[Path]:
    """A fresh temporary folder for saved models, removed with everything in it on exit."""
    with tempfile.TemporaryDirectory(prefix=temp_prefix("saved")) as folder:
        yield Path(folder)
