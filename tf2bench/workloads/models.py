"""The benchmark networks in four construction styles, built deterministically from a seed.

One architecture (a tuple of LayerSpec) is built four ways, as the seed teaches:

    lowlevel    raw `tf.Variable`s in a `tf.Module`, the forward pass written with `tf.nn` ops
    sequential  `keras.Sequential([keras.Input(...), layers...])`
    functional  `keras.Input` + `keras.Model(inputs, outputs)`
    subclassed  a `keras.Model` subclass whose `call` runs custom Layers (`build` + `call`)

Weights come from seeded initializers (`GlorotUniform(seed + i)` for the i-th weighted layer,
zero biases), so every style built with the same seed starts from identical weights, and
`trainable_variables` lists them in the same order (kernel, bias per weighted layer), which is
what `set_weights` / `copy_weights` rely on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from tf2bench.errors import UsageError, expect_choice
from tf2bench.workloads.data import IMAGE_SHAPE, NUM_CLASSES, mnist_arrays, prepare_images
from tf2bench.workloads.keras_compat import keras, mark_built

__all__ = [
    "ARCHITECTURES",
    "INPUT_SHAPES",
    "KERAS_STYLES",
    "NETWORKS",
    "STYLES",
    "LayerSpec",
    "LowLevelModel",
    "SeededLayer",
    "SubclassedModel",
    "build_functional",
    "build_model",
    "copy_weights",
    "example_batch",
    "get_weights",
    "loss_for",
    "outputs_and_gradients",
    "set_weights",
]

NETWORKS = ("mlp", "cnn", "linear")
STYLES = ("lowlevel", "sequential", "functional", "subclassed")
# Styles that are keras.Model instances: predict, fit, train_on_batch and .keras files need one.
KERAS_STYLES = ("sequential", "functional", "subclassed")
LINEAR_FEATURES = 4


@dataclass(frozen=True)
class LayerSpec:
    """One layer of an architecture.

    Attributes:
        kind: dense | conv (3x3, valid padding) | pool (2x2 max) | flatten.
        units: output units of a dense layer, filters of a conv layer; 0 for the others.
        activation: "relu" or None (linear).
    """

    kind: str
    units: int = 0
    activation: str | None = None

    @property
    def weighted(self) -> bool:
        return self.kind in ("dense", "conv")


_FLATTEN, _POOL = LayerSpec("flatten"), LayerSpec("pool")
KERNEL_SIZE = 3

ARCHITECTURES: dict[str, tuple[LayerSpec, ...]] = {
    "mlp": (_FLATTEN, LayerSpec("dense", 128, "relu"), LayerSpec("dense", NUM_CLASSES)),
    "cnn": (
        LayerSpec("conv", 16, "relu"),
        _POOL,
        LayerSpec("conv", 32, "relu"),
        _POOL,
        _FLATTEN,
        LayerSpec("dense", NUM_CLASSES),
    ),
    # The seed's Linear model: Dense(units=1) on 4 inputs, where per-call overhead is everything.
    "linear": (LayerSpec("dense", 1),),
}
# Per-example input shapes (without the batch axis).
INPUT_SHAPES: dict[str, tuple[int, ...]] = {
    "mlp": (*IMAGE_SHAPE, 1),
    "cnn": (*IMAGE_SHAPE, 1),
    "linear": (LINEAR_FEATURES,),
}


def _seeded_layers(network: str, seed: int) -> list[tuple[LayerSpec, int | None]]:
    """Each layer of `network` with its initializer seed (None for layers without weights)."""
    layers, index = [], 0
    for spec in ARCHITECTURES[network]:
        layers.append((spec, seed + index if spec.weighted else None))
        index += spec.weighted
    return layers


def _activate(x: tf.Tensor, activation: str | None) -> tf.Tensor:
    return tf.nn.relu(x) if activation == "relu" else x


def _kernel_shape(spec: LayerSpec, input_shape: tuple) -> tuple[int, ...]:
    """The kernel shape of a weighted layer, from its input shape (batch axis first)."""
    fan_in = int(input_shape[-1])
    if spec.kind == "conv":
        return (KERNEL_SIZE, KERNEL_SIZE, fan_in, spec.units)
    return (fan_in, spec.units)


def _output_shape(spec: LayerSpec, input_shape: tuple) -> tuple:
    """The output shape of a layer (batch axis first, kept as given)."""
    batch, *rest = input_shape
    if spec.kind == "flatten":
        return (batch, int(np.prod(rest)))
    if spec.kind == "pool":
        return (batch, rest[0] // 2, rest[1] // 2, rest[2])
    if spec.kind == "conv":
        return (batch, rest[0] - KERNEL_SIZE + 1, rest[1] - KERNEL_SIZE + 1, spec.units)
    return (batch, spec.units)


def _apply(spec: LayerSpec, x: tf.Tensor, kernel=None, bias=None) -> tf.Tensor:
    """One layer of the forward pass in raw TensorFlow ops (lowlevel and SeededLayer share it)."""
    if spec.kind == "flatten":
        return tf.reshape(x, [tf.shape(x)[0], -1])
    if spec.kind == "pool":
        return tf.nn.max_pool2d(x, ksize=2, strides=2, padding="VALID")
    if spec.kind == "conv":
        x = tf.nn.conv2d(x, kernel, strides=1, padding="VALID")
    else:
        x = tf.matmul(x, kernel)
    return _activate(x + bias, spec.activation)


# ---- lowlevel -----------------------------------------------------------------------------


class LowLevelModel(tf.Module):
    """The network as raw `tf.Variable`s and `tf.nn` ops: no Keras on the call path."""

    def __init__(self, network: str, seed: int = 0) -> None:
        expect_choice("network", network, NETWORKS)
        super().__init__(name=f"{network}_lowlevel")
        self.network = network
        self.layers = ARCHITECTURES[network]
        # NOTE: one list attribute, so tf.Module lists the variables in layer order
        # (kernel, bias, kernel, bias, ...) like Keras does; attributes are walked by name.
        self.parameters: list[tf.Variable] = []
        shape = (None, *INPUT_SHAPES[network])
        for index, (spec, layer_seed) in enumerate(_seeded_layers(network, seed)):
            if spec.weighted:
                kernel = keras.initializers.GlorotUniform(layer_seed)(_kernel_shape(spec, shape))
                self.parameters.append(tf.Variable(kernel, name=f"kernel_{index}"))
                self.parameters.append(tf.Variable(tf.zeros([spec.units]), name=f"bias_{index}"))
            shape = _output_shape(spec, shape)

    def __call__(self, x: tf.Tensor, training: bool = False) -> tf.Tensor:
        weights = iter(self.parameters)
        for spec in self.layers:
            kernel, bias = (next(weights), next(weights)) if spec.weighted else (None, None)
            x = _apply(spec, x, kernel, bias)
        return x


# ---- Keras layers: built-in (sequential, functional) and custom (subclassed) ---------------


def _keras_layer(spec: LayerSpec, seed: int | None) -> keras.layers.Layer:
    if spec.kind == "flatten":
        return keras.layers.Flatten()
    if spec.kind == "pool":
        return keras.layers.MaxPooling2D()
    init = keras.initializers.GlorotUniform(seed)
    if spec.kind == "conv":
        return keras.layers.Conv2D(
            spec.units, KERNEL_SIZE, activation=spec.activation, kernel_initializer=init
        )
    return keras.layers.Dense(spec.units, activation=spec.activation, kernel_initializer=init)


@keras.saving.register_keras_serializable(package="tf2bench")
class SeededLayer(keras.layers.Layer):
    """A custom Layer in the seed's way: `build` creates the weights, `call` computes.

    One class for the four kinds of LayerSpec, so the subclassed style needs no Keras layers.
    """

    def __init__(
        self,
        kind: str,
        units: int = 0,
        activation: str | None = None,
        seed: int | None = None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.spec = LayerSpec(kind, units, activation)
        self.seed = seed

    def build(self, input_shape) -> None:
        if self.spec.weighted:
            init = keras.initializers.GlorotUniform(self.seed)
            shape = _kernel_shape(self.spec, input_shape)
            self.kernel = self.add_weight(shape=shape, initializer=init, name="kernel")
            self.bias = self.add_weight(shape=(self.spec.units,), initializer="zeros", name="bias")
        mark_built(self, input_shape)

    def call(self, x):
        if not self.spec.weighted:
            return _apply(self.spec, x)
        return _apply(self.spec, x, self.kernel, self.bias)

    def compute_output_shape(self, input_shape):
        return _output_shape(self.spec, tuple(input_shape))

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "kind": self.spec.kind,
            "units": self.spec.units,
            "activation": self.spec.activation,
            "seed": self.seed,
        }


@keras.saving.register_keras_serializable(package="tf2bench")
class SubclassedModel(keras.Model):
    """A `keras.Model` subclass: custom SeededLayers in `__init__`, the forward pass in `call`."""

    def __init__(self, network: str, seed: int = 0, **kwargs) -> None:
        expect_choice("network", network, NETWORKS)
        kwargs.setdefault("name", f"{network}_subclassed")
        super().__init__(**kwargs)
        self.network = network
        self.seed = seed
        self.blocks = [
            SeededLayer(spec.kind, spec.units, spec.activation, layer_seed)
            for spec, layer_seed in _seeded_layers(network, seed)
        ]

    def build(self, input_shape) -> None:
        # Creates every block's weights from the shapes alone, without running a forward pass.
        shape = tuple(input_shape)
        for block in self.blocks:
            block.build(shape)
            shape = block.compute_output_shape(shape)
        mark_built(self, input_shape)

    def call(self, x, training: bool = False):
        for block in self.blocks:
            x = block(x)
        return x

    def get_config(self) -> dict:
        return {**super().get_config(), "network": self.network, "seed": self.seed}


# ---- the four builders --------------------------------------------------------------------


def build_functional(network: str, seed: int = 0) -> keras.Model:
    """The named network in the Keras functional API (`keras.Input` + `keras.Model`).

    Returns:
        A built keras.Model mapping float32 [batch, *INPUT_SHAPES[network]] to
        [batch, units] (10 logits for mlp and cnn, 1 output for linear).
    """
    expect_choice("network", network, NETWORKS)
    x = inputs = keras.Input(shape=INPUT_SHAPES[network], name="inputs")
    for spec, layer_seed in _seeded_layers(network, seed):
        x = _keras_layer(spec, layer_seed)(x)
    return keras.Model(inputs, x, name=f"{network}_functional")


def _build_sequential(network: str, seed: int) -> keras.Model:
    layers = [_keras_layer(spec, s) for spec, s in _seeded_layers(network, seed)]
    return keras.Sequential(
        [keras.Input(shape=INPUT_SHAPES[network]), *layers], name=f"{network}_sequential"
    )


def _build_subclassed(network: str, seed: int) -> keras.Model:
    model = SubclassedModel(network, seed)
    # A subclassed model has no weights until it is built for an input shape.
    model.build((None, *INPUT_SHAPES[network]))
    return model


def build_model(network: str, style: str, seed: int = 0):
    """The named network built in the named style, with its weights created.

    Returns:
        A callable `model(x, training=False)` with `trainable_variables` in layer order:
        a keras.Model for the Keras styles, a LowLevelModel (tf.Module) for lowlevel.

    Raises:
        UsageError: unknown network or style (the message lists the valid ones).
    """
    expect_choice("network", network, NETWORKS)
    expect_choice("style", style, STYLES)
    if style == "lowlevel":
        return LowLevelModel(network, seed)
    if style == "sequential":
        return _build_sequential(network, seed)
    if style == "subclassed":
        return _build_subclassed(network, seed)
    return build_functional(network, seed)


# ---- weights, data, loss -----------------------------------------------------------------


def get_weights(model) -> list[np.ndarray]:
    """The trainable weights as NumPy arrays, in layer order (kernel, bias per weighted layer)."""
    return [variable.numpy() for variable in model.trainable_variables]


def set_weights(model, weights: Sequence[np.ndarray]) -> None:
    """Assigns `weights` (layer order) to the model's trainable variables.

    Raises:
        UsageError: the number or shapes of the arrays do not match the model's variables.
    """
    variables = list(model.trainable_variables)
    shapes = [tuple(variable.shape) for variable in variables]
    received = [tuple(np.shape(array)) for array in weights]
    if shapes != received:
        raise UsageError(
            f"Received weights of shapes {received}, expected the shapes of {model.name}'s "
            f"variables: {shapes}"
        )
    for variable, array in zip(variables, weights, strict=True):
        variable.assign(array)


def copy_weights(source, target) -> None:
    """Copies the trainable weights of one model into another of the same architecture."""
    set_weights(target, get_weights(source))


def loss_for(network: str) -> keras.losses.Loss:
    """Sparse categorical cross-entropy on logits for mlp and cnn; mean squared error for linear."""
    expect_choice("network", network, NETWORKS)
    if network == "linear":
        return keras.losses.MeanSquaredError()
    return keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def example_batch(network: str, batch_size: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic inputs and targets for `network`.

    Returns:
        (x, y): MNIST-shaped float32 images [batch, 28, 28, 1] and int32 labels [batch] for
        mlp and cnn; float32 features [batch, 4] and a noisy linear target [batch, 1] for linear.
    """
    expect_choice("network", network, NETWORKS)
    if not isinstance(batch_size, int) or batch_size <= 0:
        raise UsageError(
            "Received an invalid `batch_size`, expected a positive integer. "
            f"Received: batch_size={batch_size!r}"
        )
    if network == "linear":
        rng = np.random.default_rng(seed)
        x = rng.standard_normal((batch_size, LINEAR_FEATURES)).astype(np.float32)
        true_weights = np.arange(1, LINEAR_FEATURES + 1, dtype=np.float32).reshape(-1, 1)
        y = x @ true_weights + 0.1 * rng.standard_normal((batch_size, 1)).astype(np.float32)
        return x, y.astype(np.float32)
    arrays = mnist_arrays(batch_size, seed=seed)
    return prepare_images(arrays.images[:batch_size]), arrays.labels[:batch_size].astype(np.int32)


def outputs_and_gradients(
    model, network: str, x, y
) -> tuple[tf.Tensor, tf.Tensor, list[tf.Tensor]]:
    """One forward and backward pass, for comparing styles.

    Returns:
        (outputs of `model(x)`, the training loss on (x, y), the loss's gradients with respect
        to `trainable_variables` in layer order).
    """
    from tf2bench.workloads.train_step import forward_backward

    return forward_backward(model, loss_for(network), x, y)
