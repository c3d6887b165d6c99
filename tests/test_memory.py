"""Peak-memory probes: host RSS reset and read through /proc, fallbacks, GPU stats with a fake."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from tf2bench.harness.devices import Device
from tf2bench.harness.memory import (
    PROC_SELF,
    DevicePeakMemory,
    HostPeakMemory,
    host_peak_method,
    probes_for,
)

MIB = 1024 * 1024
linux_proc = pytest.mark.skipif(
    not (PROC_SELF / "status").exists() or host_peak_method().startswith("since"),
    reason="needs /proc/self/status and a writable /proc/self/clear_refs (Linux)",
)


def _fake_proc(tmp_path: Path, hwm_kb: int, *, writable: bool) -> Path:
    """A stand-in for /proc/self whose clear_refs is a file, or a folder (so writes fail)."""
    proc = tmp_path / "proc"
    proc.mkdir()
    (proc / "status").write_text(f"Name:\tpython\nVmHWM:\t{hwm_kb} kB\nVmRSS:\t10 kB\n")
    if writable:
        (proc / "clear_refs").write_text("")
    else:
        (proc / "clear_refs").mkdir()
    return proc


@linux_proc
def test_host_peak_sees_an_allocation_and_is_reset_for_the_next_benchmark():
    probe = HostPeakMemory()
    probe.start()
    baseline = probe.stop()["peak_host_bytes"]
    probe.start()
    block = np.ones(96 * MIB, dtype=np.uint8)  # every page touched, so it is resident
    with_block = probe.stop()["peak_host_bytes"]
    del block
    probe.start()
    after_free = probe.stop()["peak_host_bytes"]
    assert probe.exact
    assert with_block >= baseline + 90 * MIB
    assert after_free < with_block - 80 * MIB, "the peak of the previous rounds was not reset"


def test_host_peak_writes_the_reset_code_and_reads_vmhwm(tmp_path):
    proc = _fake_proc(tmp_path, hwm_kb=2048, writable=True)
    probe = HostPeakMemory(proc)
    probe.start()
    assert (proc / "clear_refs").read_text() == "5"
    assert probe.stop() == {"peak_host_bytes": 2048 * 1024.0}
    assert probe.exact


def test_host_peak_without_reset_is_exact_only_when_the_rounds_set_a_new_peak(tmp_path):
    proc = _fake_proc(tmp_path, hwm_kb=1000, writable=False)
    probe = HostPeakMemory(proc)
    probe.start()
    assert probe.stop() == {"peak_host_bytes": 1000 * 1024.0}
    assert not probe.exact, "an unchanged lifetime peak may belong to an earlier benchmark"
    probe.start()
    (proc / "status").write_text("VmHWM:\t3000 kB\n")
    assert probe.stop() == {"peak_host_bytes": 3000 * 1024.0}
    assert probe.exact


def test_host_peak_without_proc_falls_back_to_getrusage(tmp_path):
    probe = HostPeakMemory(tmp_path / "no-proc")
    probe.start()
    peak = probe.stop()["peak_host_bytes"]
    assert peak > 10 * MIB  # this Python process with NumPy loaded
    assert not probe.exact


def test_host_peak_method_names_the_fallbacks(tmp_path):
    assert host_peak_method(tmp_path / "no-proc") == "since process start (getrusage)"
    assert "clear_refs not writable" in host_peak_method(
        _fake_proc(tmp_path, hwm_kb=1, writable=False)
    )


class FakeMemoryConfig:
    """Stands in for tf.config.experimental on a machine without a GPU."""

    def __init__(self, peak: int = 0, error: Exception | None = None) -> None:
        self.peak = peak
        self.error = error
        self.calls: list[tuple[str, str]] = []

    def reset_memory_stats(self, name: str) -> None:
        self.calls.append(("reset", name))
        if self.error:
            raise self.error

    def get_memory_info(self, name: str) -> dict[str, int]:
        self.calls.append(("info", name))
        if self.error:
            raise self.error
        return {"current": 1, "peak": self.peak}


def test_device_peak_resets_before_and_reads_the_peak_after():
    config = FakeMemoryConfig(peak=123456)
    probe = DevicePeakMemory("GPU:1", config)
    probe.start()
    assert probe.stop() == {"peak_device_bytes": 123456.0}
    assert config.calls == [("reset", "GPU:1"), ("info", "GPU:1")]


def test_device_peak_never_fails_a_benchmark_and_warns_once(caplog):
    probe = DevicePeakMemory("GPU:0", FakeMemoryConfig(error=ValueError("not supported")))
    with caplog.at_level(logging.WARNING, logger="tf2bench.harness.memory"):
        probe.start()
        assert probe.stop() == {}
        probe.start()
        assert probe.stop() == {}
    assert [record.getMessage() for record in caplog.records] == [
        "tf2bench: no device memory stats for GPU:0: not supported"
    ]


def test_probes_measure_the_host_everywhere_and_the_device_on_a_gpu():
    cpu_probes = probes_for(Device("cpu"))
    gpu_probes = probes_for(Device("gpu", 1))
    assert [type(probe) for probe in cpu_probes] == [HostPeakMemory]
    assert [type(probe) for probe in gpu_probes] == [HostPeakMemory, DevicePeakMemory]
    assert gpu_probes[1].device_name == "GPU:1"
    assert gpu_probes[1]._config is None, "TensorFlow is touched only when the probe starts"
