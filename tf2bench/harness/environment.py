"""The environment fingerprint attached to every run under machine_info['tf2bench']."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

from tf2bench.presets import active_preset

__all__ = ["ENV_FLAGS", "collect_machine_state", "collect_packages", "fingerprint"]

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
    from tf2bench.settings import environment_threads

    cpus = tf.config.list_physical_devices("CPU")
    # Reads the configuration without initialising TensorFlow's devices (unlike listing them).
    split = tf.config.get_logical_device_configuration(cpus[0]) if cpus else None
    return {
        "threads_setting": environment_threads(),
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


def collect_git() -> dict[str, Any]:
    """The commit of the benchmarked code and its date: what `tf2bench report` orders history by."""
    root = Path(__file__).resolve().parents[2]
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "log", "-1", "--format=%H %cI"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
        commit, date = done.stdout.split()
    except (OSError, subprocess.SubprocessError, ValueError):
        return {"git_commit": None, "git_commit_date": None}  # not a git checkout
    return {"git_commit": commit, "git_commit_date": date}


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None


def collect_machine_state(proc: Path = Path("/proc"), sys_: Path = Path("/sys")) -> dict[str, Any]:
    """What pyperf records about the machine's state; a field is None where it is unreadable."""
    loadavg = (_read(proc / "loadavg") or "").split()
    stat = {
        parts[0]: parts[1]
        for parts in (line.split() for line in (_read(proc / "stat") or "").splitlines())
        if len(parts) > 1
    }
    cpu = sys_ / "devices/system/cpu"
    no_turbo = _read(cpu / "intel_pstate/no_turbo")
    boost = _read(cpu / "cpufreq/boost")
    turbo = {"0": True, "1": False}.get(no_turbo or "") if no_turbo else None
    if turbo is None and boost:
        turbo = {"1": True, "0": False}.get(boost)
    aslr = _read(proc / "sys/kernel/randomize_va_space")
    return {
        "load_avg": [float(value) for value in loadavg[:3]] if len(loadavg) >= 3 else None,
        "cpu_governor": _read(cpu / "cpu0/cpufreq/scaling_governor"),
        "turbo": turbo,
        # /proc/stat counts this process too.
        "runnable": int(stat["procs_running"]) if stat.get("procs_running", "").isdigit() else None,
        "aslr": {"0": "off", "1": "partial", "2": "full"}.get(aslr or "", aslr),
        "boot_time": int(stat["btime"]) if stat.get("btime", "").isdigit() else None,
    }


def collect_packages() -> dict[str, str]:
    """{name: version} of every installed distribution, sorted by name."""
    packages = {}
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            packages[name] = dist.version
    return dict(sorted(packages.items(), key=lambda item: item[0].lower()))


def fingerprint() -> dict[str, Any]:
    """Everything that changes what a benchmark measures, as plain JSON-able data."""
    return {
        **collect_tensorflow(),
        **collect_flags(),
        **collect_cpu(),
        **collect_python(),
        **collect_git(),
        "preset": active_preset(),
        "machine_state": collect_machine_state(),
        "packages": collect_packages(),
    }
