"""Process-wide TensorFlow settings that must precede device initialisation: threads, logical CPUs.

TensorFlow fixes its intra-op thread pool and its logical devices the first time it touches a
device; both raise RuntimeError afterwards and cannot be restored. They are therefore run-level
settings: the pytest plugin applies them before any benchmark runs, and the fingerprint and
every record carry them, so runs with different settings are never mixed up. Nothing here
imports TensorFlow at import time.
"""

from __future__ import annotations

import logging
import os

from tf2bench.errors import UsageError

__all__ = [
    "ALL_THREADS",
    "LOGICAL_CPUS",
    "apply_threads",
    "logical_cpu_count",
    "parse_threads",
    "split_cpu",
]

log = logging.getLogger(__name__)

# "all" leaves TensorFlow's default (0: one intra-op thread per core).
ALL_THREADS = "all"
# The distribute family's largest replica count on one CPU.
LOGICAL_CPUS = 4


# More threads than this per CPU only adds switching; 100000 made TensorFlow abort.
THREADS_PER_CPU = 4


def parse_threads(text: str) -> str:
    """Normalises a threads setting: 'all' or a positive integer as a string.

    Raises:
        UsageError: one line naming what was expected and what was received.
    """
    value = str(text).strip().lower()
    if value == ALL_THREADS:
        return value
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    most = THREADS_PER_CPU * (cpus or 1)
    if value.isdigit() and 0 < int(value) <= most:
        return str(int(value))
    raise UsageError(
        f"Received an invalid threads setting, expected 'all' or an integer from 1 to {most} "
        f"({THREADS_PER_CPU} per CPU this process may use). Received: {text!r}"
    )


def apply_threads(setting: str) -> None:
    """Sets TensorFlow's intra-op thread count for this process (must precede initialisation).

    The inter-op pool keeps TensorFlow's default. The run's setting is `RunSettings.threads`.

    Raises:
        UsageError: the setting is malformed, or TensorFlow was initialised already.
    """
    setting = parse_threads(setting)
    if setting != ALL_THREADS:
        import tensorflow as tf

        try:
            tf.config.threading.set_intra_op_parallelism_threads(int(setting))
        except RuntimeError as error:
            raise UsageError(
                f"Received threads={setting}, but TensorFlow was already initialised in this "
                f"process ({error}); expected the setting before any TensorFlow op runs"
            ) from None


def split_cpu(count: int = LOGICAL_CPUS) -> int:
    """Splits the first physical CPU into `count` logical devices for the distribute family.

    The logical devices share one thread pool, so ops placed on /CPU:0 (every other family)
    run as before; only placement across /CPU:1.. becomes possible.

    Returns:
        The number of logical CPU devices now configured; fewer than `count` when TensorFlow
        was initialised before this call (the distribute benchmarks then skip with a reason).
    """
    import tensorflow as tf

    cpus = tf.config.list_physical_devices("CPU")
    existing = tf.config.get_logical_device_configuration(cpus[0]) or []
    if len(existing) >= count:
        return len(existing)
    try:
        tf.config.set_logical_device_configuration(
            cpus[0], [tf.config.LogicalDeviceConfiguration() for _ in range(count)]
        )
    except RuntimeError as error:
        log.warning("tf2bench: cannot split the CPU into %d logical devices: %s", count, error)
        return logical_cpu_count()
    return count


def logical_cpu_count() -> int:
    """How many logical CPU devices TensorFlow has (initialises TensorFlow's devices)."""
    import tensorflow as tf

    return len(tf.config.list_logical_devices("CPU"))
