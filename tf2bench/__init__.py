"""tf2bench: a benchmark and profiling suite for TensorFlow 2."""

__version__ = "0.1.0"
