"""The one place that picks Keras: Keras 3, or Keras 2 (`tf-keras`) when TF_USE_LEGACY_KERAS=1.

Workloads write `from tf2bench.workloads.keras_compat import keras` and call the helpers below
where the two APIs differ, so one code path builds, trains and saves with either Keras:

    what                      Keras 3 (`keras`)                   Keras 2 (`tf_keras`)
    loss-scale optimizer      keras.optimizers.LossScaleOptimizer keras.mixed_precision.LossScale...
    scaling in a train step   optimizer.scale_loss; apply unscales get_scaled_loss, then
                                                                  get_unscaled_gradients
    per-example loss          reduction=None                      reduction="none"
    .keras files              model.save(path)                    model.save(path) (v3 format)
    a custom `build`          Keras marks it built, keeps shape   mark_built (else the first call
                                                                  builds new weights, and a
                                                                  reloaded model has no shape)
    version check             -                                   minor must equal TensorFlow's

TensorFlow 2.16+ reads the same variable (`tf.keras` follows it), so it must be set before the
first TensorFlow import; a run selects its Keras once, in its environment.
"""

from __future__ import annotations

import os
from typing import Any

from tf2bench.errors import UsageError

__all__ = [
    "FLAVOR",
    "LEGACY_ENV",
    "keras",
    "keras_label",
    "keras_version",
    "legacy_requested",
    "loss_scale_optimizer",
    "loss_scaling",
    "mark_built",
    "per_example_loss",
    "sgd",
]

LEGACY_ENV = "TF_USE_LEGACY_KERAS"


def legacy_requested(environ: dict[str, str] | None = None) -> bool:
    """True when the environment asks for Keras 2 (the values TensorFlow itself accepts)."""
    return (os.environ if environ is None else environ).get(LEGACY_ENV) in ("1", "true", "True")


def _import_keras() -> tuple[Any, str]:
    if not legacy_requested():
        import keras as keras3

        return keras3, "keras3"
    try:
        import tf_keras
    except ImportError:
        raise UsageError(
            f"Received {LEGACY_ENV}=1, expected the tf-keras package (Keras 2) to be installed: "
            "pip install 'tf2bench[keras2]'"
        ) from None
    import tensorflow as tf

    # tf-keras is released per TensorFlow minor version; another minor fails in odd places.
    if tf_keras.__version__.split(".")[:2] != tf.__version__.split(".")[:2]:
        minor = ".".join(tf.__version__.split(".")[:2])
        raise UsageError(
            f"Received tf-keras {tf_keras.__version__}, expected the minor version of "
            f"TensorFlow {tf.__version__}: pip install 'tf-keras=={minor}.*'"
        )
    return tf_keras, "tf_keras"


keras, FLAVOR = _import_keras()


def keras_version() -> str:
    return str(keras.__version__)


def keras_label() -> str:
    """Which Keras ran, as records and the fingerprint store it: "keras3 3.15.1"."""
    return f"{FLAVOR} {keras_version()}"


def sgd(learning_rate: float, variables=None):
    """SGD, with its state built for `variables` when given.

    Built up front: creating optimizer state inside the first trace would trace twice.
    """
    optimizer = keras.optimizers.SGD(learning_rate)
    if variables is not None:
        optimizer.build(list(variables))
    return optimizer


def mark_built(layer, input_shape) -> None:
    """Ends a custom `build` that does not call the base class's.

    Keras 3 wraps every `build` and records this itself. Keras 2 only does in `Layer.build`:
    without it the first call builds again (fresh weights), and `.keras` files store no build
    shape, so loading cannot create the variables to restore.
    """
    if FLAVOR == "tf_keras":
        layer._build_input_shape = input_shape
    layer.built = True


def loss_scale_optimizer(inner):
    """Dynamic loss scaling around `inner` for mixed_float16 (the class moved in Keras 3)."""
    if FLAVOR == "keras3":
        return keras.optimizers.LossScaleOptimizer(inner)
    return keras.mixed_precision.LossScaleOptimizer(inner)


def loss_scaling(optimizer):
    """(scale(loss), unscale(gradients)) for a custom train step, identities without scaling."""
    if FLAVOR == "keras3":
        # Keras 3: every optimizer has scale_loss; apply_gradients unscales by itself.
        return optimizer.scale_loss, _identity
    if hasattr(optimizer, "get_scaled_loss"):
        return optimizer.get_scaled_loss, optimizer.get_unscaled_gradients
    return _identity, _identity


def _identity(value):
    return value


def per_example_loss(from_logits: bool = True):
    """Sparse categorical cross-entropy without reduction (one loss per example)."""
    reduction = None if FLAVOR == "keras3" else "none"
    return keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits, reduction=reduction)
