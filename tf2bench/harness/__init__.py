"""Measuring: devices, timing around pytest-benchmark, the environment fingerprint, profiling."""
