"""The environment fingerprint and the `tf2bench env` command."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tf2bench.harness import environment
from tf2bench.records.schema import fingerprint_id


def test_fingerprint_has_every_field_a_comparison_needs():
    fingerprint = environment.fingerprint()
    assert fingerprint["tensorflow"].startswith("2.")
    assert fingerprint["keras"].startswith("3.")
    assert "CPU:0" in fingerprint["physical_devices"]
    assert fingerprint["cpu_count"] >= 1 and fingerprint["cpu_model"]
    for field in (
        "cuda_version",
        "cudnn_version",
        "is_cuda_build",
        "intra_op_threads",
        "inter_op_threads",
        "onednn_opts",
        "xla_flags",
        "preset",
    ):
        assert field in fingerprint
    json.dumps(fingerprint)  # plain JSON-able data


def test_flags_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "0")
    monkeypatch.setenv("XLA_FLAGS", "--xla_cpu_enable_fast_math=false")
    flags = environment.collect_flags()
    assert flags["onednn_opts"] == "0"
    assert flags["xla_flags"] == "--xla_cpu_enable_fast_math=false"
    assert flags["env"]["TF_ENABLE_ONEDNN_OPTS"] == "0"


def test_a_flag_change_changes_the_fingerprint_id(monkeypatch):
    before = fingerprint_id(environment.fingerprint())
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "0")
    assert fingerprint_id(environment.fingerprint()) != before


@pytest.mark.slow
def test_env_command_prints_the_fingerprint():
    result = subprocess.run(
        [sys.executable, "-m", "tf2bench.cli", "env"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0
    assert json.loads(result.stdout)["tensorflow"].startswith("2.")


def test_unknown_command_is_a_one_line_usage_error():
    result = subprocess.run(
        [sys.executable, "-m", "tf2bench.cli", "benchmark-everything"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "invalid choice" in result.stderr


def fake_machine(tmp_path, files: dict[str, str]):
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path / "proc", tmp_path / "sys"


def test_machine_state_reads_proc_and_sys(tmp_path):
    proc, sys_ = fake_machine(
        tmp_path,
        {
            "proc/loadavg": "1.50 0.75 0.25 3/104 8110\n",
            "proc/stat": "cpu  1 2 3\nbtime 1796281478\nprocs_running 3\nprocs_blocked 0\n",
            "proc/sys/kernel/randomize_va_space": "2\n",
            "sys/devices/system/cpu/cpu0/cpufreq/scaling_governor": "performance\n",
            "sys/devices/system/cpu/intel_pstate/no_turbo": "1\n",
        },
    )
    state = environment.collect_machine_state(proc, sys_)
    assert state == {
        "load_avg": [1.5, 0.75, 0.25],
        "cpu_governor": "performance",
        "turbo": False,
        "runnable": 3,
        "aslr": "full",
        "boot_time": 1796281478,
    }


def test_machine_state_is_none_where_unreadable_and_boost_gives_turbo(tmp_path):
    proc, sys_ = fake_machine(tmp_path, {"sys/devices/system/cpu/cpufreq/boost": "1\n"})
    state = environment.collect_machine_state(proc, sys_)
    assert state["turbo"] is True
    assert all(state[key] is None for key in ("load_avg", "cpu_governor", "runnable", "aslr"))
    assert state["boot_time"] is None


def test_packages_lists_every_installed_distribution_with_its_version():
    import importlib.metadata

    import pytest

    packages = environment.collect_packages()
    assert packages["pytest"] == pytest.__version__
    assert packages["numpy"] == importlib.metadata.version("numpy")
    assert len(packages) == len({d.metadata["Name"] for d in importlib.metadata.distributions()})


def test_fingerprint_carries_machine_state_and_packages():
    fingerprint = environment.fingerprint()
    assert set(fingerprint["machine_state"]) == {
        "load_avg", "cpu_governor", "turbo", "runnable", "aslr", "boot_time",
    }  # fmt: skip
    names = {"tensorflow", "tensorflow-cpu"} & set(fingerprint["packages"])
    assert [fingerprint["packages"][name] for name in names] == [fingerprint["tensorflow"]]


def test_fingerprint_records_the_git_commit_and_its_date():
    recorded = environment.collect_git()
    head = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True)
    assert recorded["git_commit"] == head.stdout.strip()
    assert recorded["git_commit_date"][:2] == "20"  # ISO 8601 date
