"""`tf2bench matrix`: versions checked before installing, environments cached, failures isolated.

The end-to-end test runs real pytest processes in one environment; only the two install steps
(creating the venv, downloading packages) are replaced, by a venv whose python is this one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tf2bench.cli import main
from tf2bench.errors import MeasurementError, UsageError
from tf2bench.harness import matrix
from tf2bench.harness.matrix import (
    BuiltEnv,
    EnvBuilder,
    EnvRun,
    EnvSpec,
    MatrixError,
    parse_matrix,
    run_interleaved,
)
from tf2bench.harness.processes import Process
from tf2bench.records.schema import load_results

ROOT = Path(__file__).resolve().parents[1]
BASE = ["tensorflow>=2.16", "numpy>=1.26", "pytest>=8"]


def test_versions_outside_the_range_are_refused_before_anything_is_installed():
    envs, problems = parse_matrix(["2.15", "2.21", "2.16.1", "3.0", "2.21"], ["3", "1", "2"])
    assert [env.label for env in envs] == [
        "tf2.21-keras3",
        "tf2.21-keras2",
        "tf2.16.1-keras3",
        "tf2.16.1-keras2",
    ]
    assert len(problems) == 3 and all("\n" not in line for line in problems)
    assert "'2.15', expected a release from 2.16 to 2.21" in problems[0]
    assert "--keras '1'" in problems[2]
    with pytest.raises(UsageError, match="'2.99'"):
        parse_matrix(["2.99"], ["3"])


def test_requirements_pin_tensorflow_and_the_matching_tf_keras():
    assert EnvSpec("2.16", "2").requirements(BASE) == [
        "tensorflow==2.16.*",
        "numpy>=1.26",
        "pytest>=8",
        "tf-keras==2.16.*",
    ]
    assert EnvSpec("2.21.0", "3").requirements(BASE)[0] == "tensorflow==2.21.0"
    assert EnvSpec("2.21", "2").environ() == {"TF_USE_LEGACY_KERAS": "1"}
    assert EnvSpec("2.21", "3").environ() == {"TF_USE_LEGACY_KERAS": "0"}


def test_uv_builds_when_found_and_venv_plus_pip_otherwise(tmp_path):
    spec = EnvSpec("2.21", "3")
    folder, python = tmp_path / "env", tmp_path / "env" / "bin" / "python"
    with_uv = EnvBuilder(tmp_path, BASE, python="py", uv="uv")._commands(folder, python, ["a"])
    assert [c[:3] for c in with_uv] == [["uv", "venv", "--quiet"], ["uv", "pip", "install"]]
    without = EnvBuilder(tmp_path, BASE, python="py")._commands(folder, python, ["a"])
    assert without == [
        ["py", "-m", "venv", str(folder)],
        [str(python), "-m", "pip", "install"] + ["--quiet", "a"],
    ]
    assert spec.label == "tf2.21-keras3"


class _FakeInstaller:
    """Stands in for subprocess.run for the install commands; counts them."""

    def __init__(self, fail: bool = False) -> None:
        self.commands: list[list[str]] = []
        self.fail = fail

    def __call__(self, command, **kwargs):
        self.commands.append(command)
        if "venv" in command:
            python = Path(command[-1]) / "bin" / "python"
            python.parent.mkdir(parents=True)
            python.symlink_to(sys.executable)
        if self.fail and "install" in command:
            return subprocess.CompletedProcess(command, 1, "", "x\nERROR: no tensorflow==2.16.*")
        if command[1] == "-c":
            return subprocess.CompletedProcess(command, 0, '{"tensorflow": "2.16.2"}\n', "")
        return subprocess.CompletedProcess(command, 0, "", "")


def test_a_finished_environment_is_reused_until_its_requirements_change(tmp_path):
    installer = _FakeInstaller()
    builder = EnvBuilder(tmp_path, BASE, uv="uv", run=installer)
    spec = EnvSpec("2.16", "3")
    first = builder.ensure(spec)
    assert not first.cached and first.versions == {"tensorflow": "2.16.2"}
    assert builder.ensure(spec).cached and len(installer.commands) == 3  # venv, install, versions
    changed = EnvBuilder(tmp_path, [*BASE, "scipy"], uv="uv", run=installer).ensure(spec)
    assert not changed.cached and len(installer.commands) == 6


def test_a_failed_install_is_one_line_and_leaves_no_environment(tmp_path):
    builder = EnvBuilder(tmp_path, BASE, uv="uv", run=_FakeInstaller(fail=True))
    with pytest.raises(MatrixError) as error:
        builder.ensure(EnvSpec("2.16", "2"))
    assert str(error.value).endswith("failed: ERROR: no tensorflow==2.16.*")
    assert "tf2.16-keras2" in str(error.value) and "\n" not in str(error.value)
    assert not builder.path(EnvSpec("2.16", "2")).exists()


def test_the_cache_folder_is_configurable(monkeypatch, tmp_path):
    monkeypatch.setenv(matrix.CACHE_ENV, str(tmp_path))
    assert matrix.default_cache() == tmp_path
    monkeypatch.delenv(matrix.CACHE_ENV)
    assert matrix.default_cache().parts[-3:] == (".cache", "tf2bench", "envs")


def test_environments_take_turns_and_a_failing_one_drops_out(tmp_path):
    """Round i runs process i of every environment, reversed every other round; an environment
    whose process fails skips the later rounds while the others go on."""
    specs = [EnvSpec("2.16", "3"), EnvSpec("2.21", "3"), EnvSpec("2.21", "2")]
    runs = [
        EnvRun(
            BuiltEnv(s, Path(f"/envs/{s.label}/bin/python"), True, 0.0), tmp_path / f"{s.label}.log"
        )
        for s in specs
    ]
    order = []

    def run_one(tree, process, args, workdir, log):
        order.append((tree.label, process.index))
        assert tree.python == f"/envs/{tree.label}/bin/python" and log.name == f"{tree.label}.log"
        assert tree.env["TF_USE_LEGACY_KERAS"] == ("1" if tree.label.endswith("keras2") else "0")
        if (tree.label, process.index) == ("tf2.21-keras3", 2):
            raise MeasurementError("tf2.21-keras3 process 2: pytest exited 1, expected 0")
        return {"benchmarks": [], "index": process.index}

    plan = [Process(index) for index in (1, 2, 3)]
    run_interleaved(
        runs, tmp_path, plan, ["-k", "x"], tmp_path, run_one=run_one, progress=lambda line: None
    )
    assert order == [
        ("tf2.16-keras3", 1), ("tf2.21-keras3", 1), ("tf2.21-keras2", 1),
        ("tf2.21-keras2", 2), ("tf2.21-keras3", 2), ("tf2.16-keras3", 2),
        ("tf2.16-keras3", 3), ("tf2.21-keras2", 3),
    ]  # fmt: skip
    assert [index for index, _ in runs[0].documents] == [1, 2, 3]
    assert runs[1].error.startswith("tf2.21-keras3 process 2") and len(runs[1].documents) == 1
    assert runs[2].error is None and all(run.log.exists() for run in runs)


def _stub_installs(monkeypatch) -> None:
    """The venv is a folder whose python runs this one; installing fails for tf 2.20 only."""

    def commands(self, folder, python, requirements):
        # A script that runs this interpreter (a symlink would lose this venv's site-packages).
        link = (
            "import os, sys; p = sys.argv[1]; os.makedirs(os.path.dirname(p)); "
            "open(p, 'w').write(f'#!/bin/sh\\nexec {sys.executable} \"$@\"\\n'); "
            "os.chmod(p, 0o755)"
        )
        install = "import sys; sys.exit(0)"
        if "tensorflow==2.20.*" in requirements:
            install = "import sys; sys.exit('ERROR: No matching distribution for tensorflow')"
        return [[sys.executable, "-c", link, str(python)], [sys.executable, "-c", install]]

    monkeypatch.setattr(EnvBuilder, "_commands", commands)
    monkeypatch.setattr(matrix, "find_uv", lambda: None)


@pytest.mark.slow
def test_matrix_end_to_end_with_bad_input_beside_a_good_environment(monkeypatch, tmp_path, capsys):
    _stub_installs(monkeypatch)
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    out = tmp_path / "out"
    code = main(
        [
            "matrix",
            "--tensorflow", "2.15", "2.21", "2.20",
            "--keras", "3",
            "--preset", "quick",
            "--family", "execution",
            "--processes", "1",
            "--cache", str(tmp_path / "envs"),
            "--out", str(out),
            "--", "-k", "test_op_granularity and many_small_ops and (eager or session)",
        ]
    )  # fmt: skip
    err = capsys.readouterr().err.splitlines()
    assert code == 2
    assert sum("'2.15', expected a release from 2.16" in line for line in err) == 1
    assert sum("uv not found" in line for line in err) == 1
    assert sum("tf2.20-keras3: `" in line and "No matching distribution" in line for line in err)
    manifest = json.loads((out / "matrix.json").read_text())
    status = {env["label"]: env["status"] for env in manifest["envs"]}
    assert status == {"tf2.21-keras3": "ok", "tf2.20-keras3": "failed"}, err
    results = load_results(out / "tf2.21-keras3.json")
    label = results.fingerprint["matrix"]
    assert label["tensorflow"] == "2.21" and label["keras"] == "3" and label["run_s"] > 0
    assert sorted(b.record.mode for b in results.benchmarks) == ["eager", "session"]
    assert all(b.record.params["keras"].startswith("keras3 ") for b in results.benchmarks)
    assert (out / "report" / "report.md").is_file()
    assert not (
        tmp_path / "envs" / f"tf2.20-keras3-py{sys.version_info[0]}{sys.version_info[1]}"
    ).exists()
    assert os.environ.get("TF_USE_LEGACY_KERAS") != "1"
