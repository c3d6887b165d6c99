"""The environment fingerprint attached to every run under machine_info['tf2bench']."""

from __future__ import annotations

import os
import platform
from typing import Any

from tf2bench.presets import active_preset

__all__ = ["ENV_FLAGS", "fingerprint"]

# Environment variables that change what TensorFlow runs or how fast.
ENV_FLAGS = (
    "TF_ENABLE_ONEDNN_OPTS",
    "XLA_FLAGS",
    "TF_XLA_FLAGS",
    "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS",
    "OMP_NUM_THREADS",
    "CUDA_VISIBLE_DEVICES",
    "TF_GPU_ALLOCATOR",
)


def collect_tensorflow() -> dict[str, Any]:
    import tensorflow as tf

    from tf2bench.workloads.keras_compat import FLAVOR, keras_version

    build = dict(tf.sysconfig.get_build_info())
    return {
        "tensorflow": tf.__version__,
        "keras": keras_version(),
        # keras3 or tf_keras (Keras 2, TF_USE_LEGACY_KERAS=1): the same version axis, two APIs.
        "keras_flavor": FLAVOR,
        "is_cuda_build": bool(build.get("is_cuda_build", False)),
        "cuda_version": build.get("cuda_version"),
        "cudnn_version": build.get("cudnn_version"),
        "physical_devices": [
            f"{device.device_type}:{device.name.rsplit(':', 1)[-1]}"
            for device in tf.config.list_physical_devices()
        ],
        # 0 means "TensorFlow picks", which is the number of cores.
        "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
        "inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads(),
        **collect_runtime(),
    }


def collect_runtime() -> dict[str, Any]:
    """The run-level settings of tf2bench.harness.runtime and how peak memory is measured."""
    import tensorflow as tf

    from tf2bench.harness.memory import host_peak_method
    from tf2bench.harness.runtime import active_threads

    cpus = tf.config.list_physical_devices("CPU")
    # Reads the configuration without initialising TensorFlow's devices (unlike listing them).
    split = tf.config.get_logical_device_configuration(cpus[0]) if cpus else None
    return {
        "threads_setting": active_threads(),
        # The distribute family splits the CPU; ops on /CPU:0 share the same thread pool.
        "logical_cpu_devices": len(split) if split else len(cpus),
        "host_peak_memory": host_peak_method(),
    }


def collect_flags() -> dict[str, Any]:
    flags = {name: os.environ.get(name) for name in ENV_FLAGS}
    return {
        # oneDNN is on by default on x86 Linux builds since TF 2.9.
        "onednn_opts": flags["TF_ENABLE_ONEDNN_OPTS"] or "default (on)",
        "xla_flags": " ".join(
            value for value in (flags["XLA_FLAGS"], flags["TF_XLA_FLAGS"]) if value
        ),
        "env": {name: value for name, value in flags.items() if value is not None},
    }


def collect_cpu() -> dict[str, Any]:
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "cpu_model": model,
        "cpu_count": os.cpu_count(),
        "affinity_cpu_count": len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else None,
        "machine": platform.machine(),
    }


def collect_python() -> dict[str, Any]:
    import numpy

    return {
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "platform": platform.platform(),
    }


def fingerprint() -> dict[str, Any]:
    """Everything that changes what a benchmark measures, as plain JSON-able data."""
    return {
        **collect_tensorflow(),
        **collect_flags(),
        **collect_cpu(),
        **collect_python(),
        "preset": active_preset(),
    }
