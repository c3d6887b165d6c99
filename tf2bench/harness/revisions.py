"""Git revisions as code trees to measure: a worktree per revision and a Python environment.

Environments: a revision's code is put on PYTHONPATH over an interpreter that has its
dependencies. When the current interpreter satisfies the revision's pyproject dependencies it
is used as is (no install, and base and head then share identical packages); otherwise a venv
keyed by a hash of the dependency spec is built once under the cache and reused, so revisions
that do not change their dependencies never reinstall TensorFlow. Worktrees are made per call
and always removed; only the venvs are cached.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

from tf2bench.errors import UsageError

__all__ = [
    "CACHE_DIR",
    "check_clean",
    "dependency_spec",
    "environment_for",
    "repo_root",
    "resolve",
    "satisfied",
    "spec_key",
    "worktrees",
]

CACHE_DIR = ".tf2bench-cache"
IMPORT_CHECK = "import pytest_benchmark.plugin, tf2bench.pytest_plugin"


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)


def repo_root(folder: Path) -> Path:
    completed = _git(folder, "rev-parse", "--show-toplevel")
    if completed.returncode != 0:
        raise UsageError(f"Received the folder {folder}, expected a folder inside a git checkout")
    return Path(completed.stdout.strip())


def resolve(repo: Path, revision: str) -> str:
    """The full commit id of a revision, or a one-line UsageError."""
    completed = _git(repo, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}")
    if completed.returncode != 0 or not revision.strip():
        raise UsageError(f"Received revision {revision!r}, expected a commit of {repo}")
    return completed.stdout.strip()


def check_clean(repo: Path) -> None:
    """Refuses uncommitted changes to tracked files: a worktree of HEAD would not hold them."""
    completed = _git(repo, "status", "--porcelain", "--untracked-files=no")
    changed = completed.stdout.splitlines()
    if changed:
        raise UsageError(
            f"Received a working tree with {len(changed)} uncommitted change(s) in {repo}, "
            "expected a clean tree (commit or stash them: HEAD is measured as committed)"
        )


@contextmanager
def worktrees(repo: Path, commits: Sequence[str], cache: Path) -> Iterator[dict[str, Path]]:
    """A detached worktree per distinct commit under cache/ab/<sha>; removed on any exit."""
    made: dict[str, Path] = {}
    try:
        for commit in dict.fromkeys(commits):
            path = cache / "ab" / commit
            _remove_worktree(repo, path)  # left over from a killed run
            path.parent.mkdir(parents=True, exist_ok=True)
            made[commit] = path
            completed = _git(repo, "worktree", "add", "--detach", "--quiet", str(path), commit)
            if completed.returncode != 0:
                reason = (completed.stderr.strip().splitlines() or ["git failed"])[-1]
                raise UsageError(f"Received revision {commit[:12]}, expected a checkout ({reason})")
        yield made
    finally:
        for path in made.values():
            _remove_worktree(repo, path)


def _remove_worktree(repo: Path, path: Path) -> None:
    _git(repo, "worktree", "remove", "--force", str(path))
    shutil.rmtree(path, ignore_errors=True)
    _git(repo, "worktree", "prune")


def dependency_spec(tree: Path, label: str) -> dict[str, Any]:
    """The revision's declared dependencies and Python bound, from its pyproject.toml."""
    import tomllib

    try:
        project = tomllib.loads((tree / "pyproject.toml").read_text(encoding="utf-8"))["project"]
        dependencies = sorted(str(item) for item in project.get("dependencies", []))
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError) as error:
        raise UsageError(
            f"{label} does not install: expected a readable pyproject.toml with a [project] "
            f"table, received {error.__class__.__name__}: {error}".replace("\n", " ")
        ) from None
    return {"dependencies": dependencies, "requires-python": project.get("requires-python")}


def spec_key(spec: dict[str, Any]) -> str:
    """The cache key of a venv: the dependency spec and the interpreter that builds it."""
    keyed = {**spec, "python": sys.version, "machine": platform.machine()}
    return hashlib.sha256(json.dumps(keyed, sort_keys=True).encode()).hexdigest()[:16]


def satisfied(spec: dict[str, Any]) -> bool:
    """Whether the current interpreter's installed distributions meet every requirement."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.specifiers import SpecifierSet

    python = spec.get("requires-python")
    if python and platform.python_version() not in SpecifierSet(python):
        return False
    for text in spec["dependencies"]:
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            return False
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        try:
            version = metadata.version(requirement.name)
        except metadata.PackageNotFoundError:
            return False
        if not requirement.specifier.contains(version, prereleases=True):
            return False
    return True


def environment_for(tree: Path, label: str, cache: Path, log: Path) -> str:
    """The Python executable that runs this tree: the current one or a cached venv."""
    spec = dependency_spec(tree, label)
    python = sys.executable if satisfied(spec) else _cached_venv(spec, label, cache, log)
    _check_imports(python, tree, label, log)
    return python


def _cached_venv(spec: dict[str, Any], label: str, cache: Path, log: Path) -> str:
    venv = cache / "venvs" / spec_key(spec)
    python = venv / "bin" / "python"
    if python.exists():
        return str(python)
    staging = venv.with_name(venv.name + ".building")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        steps = (
            [sys.executable, "-m", "venv", str(staging)],
            [str(staging / "bin" / "python"), "-m", "pip", "install", "-q", *spec["dependencies"]],
        )
        for step in steps:
            with log.open("a", encoding="utf-8") as output:
                completed = subprocess.run(step, stdout=output, stderr=output)
            if completed.returncode != 0:
                raise UsageError(
                    f"{label} does not install: `{' '.join(step[:4])} ...` exited "
                    f"{completed.returncode}, expected 0 (log: {log})"
                )
        # Built aside and renamed when complete, so a failed install leaves no half venv; only
        # `bin/python -m ...` is used, which still works after the move.
        staging.rename(venv)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return str(python)


def _check_imports(python: str, tree: Path, label: str, log: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(tree), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    completed = subprocess.run(
        [python, "-c", IMPORT_CHECK], cwd=tree, env=env, capture_output=True, text=True
    )
    if completed.returncode != 0:
        with log.open("a", encoding="utf-8") as output:
            output.write(completed.stderr)
        last = (completed.stderr.strip().splitlines() or ["no output"])[-1]
        raise UsageError(f"{label} does not install: importing its tf2bench failed ({last})")
