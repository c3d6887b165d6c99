"""The benchmark networks on MNIST-shaped input, built deterministically from a seed.

Weights come from seeded initializers, so two builds with the same seed are identical and
variants (execution modes, model styles) start from the same weights.
"""

from __future__ import annotations

from tf2bench.errors import expect_choice
from tf2bench.workloads.data import IMAGE_SHAPE, NUM_CLASSES

__all__ = ["NETWORKS", "build_functional"]

NETWORKS = ("mlp", "cnn")


def build_functional(network: str, seed: int = 0):
    """The named network in the Keras functional API (`tf.keras.Input` + `tf.keras.Model`).

    Returns:
        A built keras.Model mapping float32 [batch, 28, 28, 1] images to [batch, 10] logits.
    """
    import keras

    expect_choice("network", network, NETWORKS)
    init = keras.initializers.GlorotUniform
    inputs = keras.Input(shape=(*IMAGE_SHAPE, 1), name="image")
    if network == "mlp":
        hidden = keras.layers.Flatten()(inputs)
        hidden = keras.layers.Dense(128, activation="relu", kernel_initializer=init(seed))(hidden)
    else:
        hidden = keras.layers.Conv2D(16, 3, activation="relu", kernel_initializer=init(seed))(inputs)
        hidden = keras.layers.MaxPooling2D()(hidden)
        hidden = keras.layers.Conv2D(32, 3, activation="relu", kernel_initializer=init(seed + 1))(hidden)
        hidden = keras.layers.MaxPooling2D()(hidden)
        hidden = keras.layers.Flatten()(hidden)
    logits = keras.layers.Dense(NUM_CLASSES, kernel_initializer=init(seed + 2))(hidden)
    return keras.Model(inputs, logits, name=f"{network}_functional")
