"""Results: the record schema, the pytest-benchmark JSON reader, statistics. No TensorFlow."""
