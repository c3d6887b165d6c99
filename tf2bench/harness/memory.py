"""Peak-memory probes around the timed rounds: host RSS on every device, device memory on a GPU.

Each probe follows `tf2bench.harness.runner.Probe`: `start()` before the timed rounds, `stop()`
after, returning metrics named in the schema. A probe never fails a benchmark: when the
platform cannot measure, the metric is left out and the reason is logged once.
"""

from __future__ import annotations

import logging
import resource
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tf2bench.harness.devices import Device

__all__ = [
    "DevicePeakMemory",
    "HostPeakMemory",
    "host_peak_method",
    "probes_for",
]

log = logging.getLogger(__name__)

PROC_SELF = Path("/proc/self")
# Writing "5" to clear_refs resets the peak RSS (VmHWM) of the process (Linux >= 4.0).
_RESET_PEAK_RSS = "5"


def _read_hwm(proc: Path) -> int | None:
    """VmHWM (peak resident set size) from /proc/<pid>/status, in bytes; None without /proc."""
    try:
        with open(proc / "status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024  # reported in kB
    except OSError:
        return None
    return None


def _lifetime_peak() -> int:
    """The process's peak RSS since it started, in bytes (ru_maxrss: kB on Linux, B on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak) if sys.platform == "darwin" else int(peak) * 1024


class HostPeakMemory:
    """Peak resident set size of this process during the timed rounds (`peak_host_bytes`).

    Exact on Linux, where the peak is reset at `start()` through /proc/self/clear_refs. Where it
    cannot be reset (no /proc, or clear_refs not writable) the probe falls back to the peak since
    the process started: exact when the rounds raised it, otherwise an upper bound. `exact`
    says which one the last measurement was.
    """

    def __init__(self, proc: Path = PROC_SELF) -> None:
        self.proc = proc
        self.exact = False
        self._peak_before: int | None = None

    def start(self) -> None:
        try:
            (self.proc / "clear_refs").write_text(_RESET_PEAK_RSS, encoding="ascii")
            self.exact = _read_hwm(self.proc) is not None
        except OSError:
            self.exact = False
        self._peak_before = None if self.exact else self._peak()

    def stop(self) -> dict[str, float]:
        peak = self._peak()
        if not self.exact and self._peak_before is not None and peak > self._peak_before:
            self.exact = True  # the rounds set a new process peak: that peak is theirs
        return {"peak_host_bytes": float(peak)}

    def _peak(self) -> int:
        hwm = _read_hwm(self.proc)
        return hwm if hwm is not None else _lifetime_peak()


def host_peak_method(proc: Path = PROC_SELF) -> str:
    """How `peak_host_bytes` is measured on this machine, for the environment fingerprint."""
    if _read_hwm(proc) is None:
        return "since process start (getrusage)"
    try:
        # The same write as the probe's, so the answer is the truth; only probes read the peak.
        (proc / "clear_refs").write_text(_RESET_PEAK_RSS, encoding="ascii")
    except OSError:
        return "since process start (VmHWM, clear_refs not writable)"
    return "per benchmark (VmHWM reset through clear_refs)"


class DevicePeakMemory:
    """Peak memory TensorFlow's allocator held on a device during the rounds (`peak_device_bytes`).

    Uses `tf.config.experimental.reset_memory_stats` / `get_memory_info(name)['peak']`; GPUs
    support both. `config` is injectable so the logic is tested without a GPU.
    """

    def __init__(self, device_name: str, config: Any | None = None) -> None:
        self.device_name = device_name
        self._config = config
        self._failed = False

    @property
    def config(self) -> Any:
        if self._config is None:
            import tensorflow as tf

            self._config = tf.config.experimental
        return self._config

    def start(self) -> None:
        self._guarded(lambda: self.config.reset_memory_stats(self.device_name))

    def stop(self) -> dict[str, float]:
        if self._failed:
            return {}
        info = self._guarded(lambda: self.config.get_memory_info(self.device_name))
        return {} if info is None else {"peak_device_bytes": float(info["peak"])}

    def _guarded(self, action: Callable[[], Any]) -> Any:
        try:
            return action()
        except (ValueError, RuntimeError, NotImplementedError) as error:
            if not self._failed:
                log.warning("tf2bench: no device memory stats for %s: %s", self.device_name, error)
            self._failed = True
            return None


def probes_for(device: Device) -> list[HostPeakMemory | DevicePeakMemory]:
    """The memory probes of a benchmark on `device`: host RSS always, device memory on a GPU."""
    probes: list[HostPeakMemory | DevicePeakMemory] = [HostPeakMemory()]
    if device.kind == "gpu":
        probes.append(DevicePeakMemory(f"GPU:{device.index}"))
    return probes
