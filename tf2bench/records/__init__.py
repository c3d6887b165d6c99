"""Results: the tf2bench record schema, the pytest-benchmark JSON reader, statistics. No TensorFlow."""
