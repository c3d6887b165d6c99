"""The version matrix: one isolated environment per (TensorFlow, Keras), the same benchmarks.

An environment is a venv under the cache folder (TF2BENCH_ENV_CACHE, default
~/.cache/tf2bench/envs), named by its versions and Python, holding tf2bench's dependencies with
TensorFlow pinned to the release (`tensorflow==2.16.*`) and, for Keras 2, the matching
`tf-keras==2.16.*`. tf2bench itself is not installed there: each run imports this checkout
(PYTHONPATH), so every environment measures the same code. `uv venv` + `uv pip install` build
it when uv is found, `python -m venv` + pip otherwise. A finished environment has a marker file
with its requirements; the next call reuses it while the requirements are unchanged.

Each environment runs N fresh pytest processes (merged as `tf2bench run` merges them), with
TF_USE_LEGACY_KERAS set for the Keras it tests. The environments take turns: round i runs
process i of every environment, in reverse order every other round, so a drift of the machine
falls on all of them alike instead of on whichever ran last.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tf2bench.errors import MeasurementError, Tf2benchError, UsageError
from tf2bench.harness.processes import Process, Tree, run_process, say

__all__ = [
    "CACHE_ENV",
    "KERAS_VERSIONS",
    "SUPPORTED_TENSORFLOW",
    "BuiltEnv",
    "EnvBuilder",
    "EnvRun",
    "EnvSpec",
    "MatrixError",
    "default_cache",
    "find_uv",
    "parse_matrix",
    "run_interleaved",
]

# TensorFlow releases tf2bench supports (Keras 3 is tf.keras from 2.16; tf-keras exists for each).
SUPPORTED_TENSORFLOW = ("2.16", "2.17", "2.18", "2.19", "2.20", "2.21")
KERAS_VERSIONS = ("3", "2")
CACHE_ENV = "TF2BENCH_ENV_CACHE"
MARKER = "tf2bench-env.json"
# What each environment reports as its installed versions.
REPORTED_PACKAGES = ("tensorflow", "keras", "tf-keras", "numpy", "protobuf", "ml-dtypes")
_VERSION = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?$")


class MatrixError(Tf2benchError):
    """One environment could not be built or run (the others go on)."""


@dataclass(frozen=True)
class EnvSpec:
    """One cell of the matrix: a TensorFlow release (2.16 or 2.16.1) and a Keras (3 or 2)."""

    tensorflow: str
    keras: str

    @property
    def label(self) -> str:
        return f"tf{self.tensorflow}-keras{self.keras}"

    def requirements(self, base: Sequence[str]) -> list[str]:
        """`base` (tf2bench's dependencies) with TensorFlow pinned, plus tf-keras for Keras 2."""
        pin = self.tensorflow if self.tensorflow.count(".") == 2 else f"{self.tensorflow}.*"
        minor = ".".join(self.tensorflow.split(".")[:2])
        kept = [req for req in base if _name(req) != "tensorflow"]
        pinned = [f"tensorflow=={pin}", *kept]
        if self.keras == "2":
            pinned.append(f"tf-keras=={minor}.*")
        return pinned

    def environ(self) -> dict[str, str]:
        # Set either way, so a TF_USE_LEGACY_KERAS in the caller's shell cannot leak in.
        return {"TF_USE_LEGACY_KERAS": "1" if self.keras == "2" else "0"}


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def parse_matrix(
    tensorflow: Sequence[str], keras: Sequence[str]
) -> tuple[list[EnvSpec], list[str]]:
    """The environments to build, and one line per refused version (nothing installed yet).

    Raises:
        UsageError: no version of an axis is usable at all.
    """
    problems, releases, kerases = [], [], []
    for version in tensorflow:
        match = _VERSION.match(version.strip())
        if not match or f"{match[1]}.{match[2]}" not in SUPPORTED_TENSORFLOW:
            problems.append(
                f"Received --tensorflow {version!r}, expected a release from "
                f"{SUPPORTED_TENSORFLOW[0]} to {SUPPORTED_TENSORFLOW[-1]} (2.NN or 2.NN.P)"
            )
        elif version.strip() not in releases:
            releases.append(version.strip())
    for version in keras:
        if version.strip() not in KERAS_VERSIONS:
            problems.append(f"Received --keras {version!r}, expected one of {KERAS_VERSIONS}")
        elif version.strip() not in kerases:
            kerases.append(version.strip())
    if not releases or not kerases:
        raise UsageError(problems[0] if problems else "Received no versions, expected at least one")
    return [EnvSpec(tf, k) for tf in releases for k in kerases], problems


def default_cache() -> Path:
    configured = os.environ.get(CACHE_ENV)
    return Path(configured) if configured else Path.home() / ".cache" / "tf2bench" / "envs"


def find_uv() -> str | None:
    """uv on PATH or beside this interpreter (pip install uv puts it there)."""
    beside = Path(sys.executable).parent / "uv"
    return shutil.which("uv") or (str(beside) if beside.is_file() else None)


def project_dependencies(root: Path) -> list[str]:
    """tf2bench's `[project] dependencies` from pyproject.toml."""
    try:
        import tomllib
    except ImportError:  # Python 3.10
        raise UsageError("Received Python 3.10, expected 3.11+ for tf2bench matrix") from None

    with open(root / "pyproject.toml", "rb") as stream:
        return list(tomllib.load(stream)["project"]["dependencies"])


@dataclass
class BuiltEnv:
    spec: EnvSpec
    python: Path
    cached: bool
    build_s: float
    versions: dict[str, str] = field(default_factory=dict)


Runner = Callable[..., subprocess.CompletedProcess]


@dataclass
class EnvBuilder:
    """Builds (or reuses) one environment per EnvSpec under `cache`."""

    cache: Path
    base_requirements: list[str]
    python: str = sys.executable
    uv: str | None = None
    run: Runner = subprocess.run

    def path(self, spec: EnvSpec) -> Path:
        py = f"py{sys.version_info.major}{sys.version_info.minor}"
        return self.cache / f"{spec.label}-{py}"

    def ensure(self, spec: EnvSpec) -> BuiltEnv:
        """The environment of `spec`, built unless a finished one with the same requirements exists.

        Raises:
            MatrixError: the install failed (one line: the installer's last error line); the
                half-built folder is removed so the next call starts clean.
        """
        folder, requirements = self.path(spec), spec.requirements(self.base_requirements)
        python = folder / "bin" / "python"
        marker = _read_marker(folder / MARKER)
        if marker.get("requirements") == requirements and python.exists():
            return BuiltEnv(spec, python, True, 0.0, marker.get("versions", {}))
        start = time.perf_counter()
        shutil.rmtree(folder, ignore_errors=True)
        folder.parent.mkdir(parents=True, exist_ok=True)
        try:
            for command in self._commands(folder, python, requirements):
                self._check(spec, command)
            versions = self._versions(spec, python)
        except MatrixError:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        build_s = time.perf_counter() - start
        record = {"requirements": requirements, "versions": versions, "build_s": build_s}
        (folder / MARKER).write_text(json.dumps(record, indent=1))  # last: marks it finished
        return BuiltEnv(spec, python, False, build_s, versions)

    def _commands(self, folder: Path, python: Path, requirements: list[str]) -> list[list[str]]:
        if self.uv:
            return [
                [self.uv, "venv", "--quiet", "--python", self.python, str(folder)],
                [self.uv, "pip", "install", "--quiet", "--python", str(python), *requirements],
            ]
        return [
            [self.python, "-m", "venv", str(folder)],
            [str(python), "-m", "pip", "install", "--quiet", *requirements],
        ]

    def _check(self, spec: EnvSpec, command: list[str]) -> subprocess.CompletedProcess:
        try:
            done = self.run(command, capture_output=True, text=True)
        except OSError as error:
            raise MatrixError(f"{spec.label}: cannot start {command[0]} ({error})") from None
        if done.returncode != 0:
            raise MatrixError(
                f"{spec.label}: `{' '.join(command[:3])}` failed: {_last_line(done.stderr)}"
            )
        return done

    def _versions(self, spec: EnvSpec, python: Path) -> dict[str, str]:
        script = (
            "import importlib.metadata as m, json\n"
            f"names = {list(REPORTED_PACKAGES)!r}\n"
            "found = {}\n"
            "for name in names:\n"
            "    try: found[name] = m.version(name)\n"
            "    except m.PackageNotFoundError: pass\n"
            "print(json.dumps(found))\n"
        )
        done = self._check(spec, [str(python), "-c", script])
        try:
            return json.loads(done.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            raise MatrixError(f"{spec.label}: cannot read the installed versions") from None


def _read_marker(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _last_line(text: str) -> str:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no error output"


@dataclass
class EnvRun:
    """One environment's processes: its documents as (process index, document), its time."""

    env: BuiltEnv
    log: Path
    documents: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None

    def tree(self, root: Path) -> Tree:
        spec = self.env.spec
        environ = {
            **spec.environ(),
            "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2"),
        }
        return Tree(root, python=str(self.env.python), label=spec.label, env=environ)


def run_interleaved(
    runs: Sequence[EnvRun],
    root: Path,
    plan: Sequence[Process],
    args: Sequence[str],
    workdir: Path,
    *,
    run_one: Callable[..., dict[str, Any]] = run_process,
    progress: Callable[[str], None] = say,
) -> None:
    """Runs every environment's plan, one process index per round, the order reversed every
    other round; fills each EnvRun. An environment whose process fails is left out of the
    rounds after it (its `error` says why); the others go on."""
    for run in runs:
        run.log.write_text("")
    indices = sorted({process.index for process in plan})
    for round_number, index in enumerate(indices):
        turn = runs if round_number % 2 == 0 else list(reversed(runs))
        for run in turn:
            if run.error:
                continue
            start = time.perf_counter()
            try:
                for process in (p for p in plan if p.index == index):
                    document = run_one(run.tree(root), process, args, workdir, run.log)
                    run.documents.append((index, document))
            except MeasurementError as error:
                run.error = str(error)
            run.seconds += time.perf_counter() - start
            done = (
                f"failed: {run.error}"
                if run.error
                else f"done in {time.perf_counter() - start:.0f} s"
            )
            progress(f"{run.env.spec.label}: process {index}/{indices[-1]} {done}")
