"""The environment fingerprint and the `tf2bench env` command."""

from __future__ import annotations

import json
import subprocess
import sys

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


def test_fingerprint_records_the_git_commit_and_its_date():
    recorded = environment.collect_git()
    head = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True)
    assert recorded["git_commit"] == head.stdout.strip()
    assert recorded["git_commit_date"][:2] == "20"  # ISO 8601 date
