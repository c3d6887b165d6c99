"""No lost runs: the --benchmark-json path checked up front, written atomically, partial marked.

    pytest_configure   stale tf2bench temp folders of dead processes removed; SIGTERM made
                       SIGINT's twin; --benchmark-json checked (missing parents created) and
                       pointed at .NAME.tmp-<pid>-* beside it
    sessionfinish      pytest-benchmark writes the temp file (the JSON says "partial": true when
                       the run was interrupted); then it is renamed over NAME in one step

So a run stopped by Ctrl-C, SIGTERM or a crash never leaves a half-written file, and a file from
an interrupted run says so. Importing this module does not import TensorFlow.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from tf2bench.errors import OutputError
from tf2bench.interrupts import sigterm_as_interrupt
from tf2bench.tempdirs import remove_stale, temp_prefix

__all__ = ["PARTIAL_KEY", "RunGuard", "check_json_path"]

PARTIAL_KEY = "partial"  # under the results document's top-level "tf2bench" object


def check_json_path(path: str | os.PathLike[str]) -> Path:
    """The absolute --benchmark-json target; parent folders are created.

    Raises:
        OutputError: the path is a folder, or its folder cannot be created or written.
    """
    target = Path(path).expanduser().absolute()
    if target.is_dir():
        raise OutputError(f"--benchmark-json={path}: is a folder, expected a file path")
    blocker = next((p for p in target.parents if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        raise OutputError(f"--benchmark-json={path}: {blocker} is a file, expected a folder")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(prefix=f".{target.name}.probe-", dir=target.parent)
        probe.close()
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise OutputError(f"--benchmark-json={path}: cannot be written ({reason})") from None
    return target


class RunGuard:
    """The pytest hooks of the guard; registered by the tf2bench plugin's pytest_configure."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.target: Path | None = None
        self.staging: Path | None = None
        self.interrupted = False
        self.exitstatus = 0
        self.scratch: Path | None = None
        self.previous_tempdir: str | None = None
        self.previous_tmpdir_env: str | None = None

    def configure(self) -> None:
        remove_stale()
        sigterm_as_interrupt()
        # AutoGraph writes its generated modules to the temp dir: a folder owned by this pid
        # holds them, removed at exit, or by the next run after a SIGKILL.
        self.scratch = Path(tempfile.mkdtemp(prefix=temp_prefix("run")))
        self.previous_tempdir, tempfile.tempdir = tempfile.tempdir, str(self.scratch)
        # Child processes (pytester, tools) follow, so their leftovers go with this folder too.
        self.previous_tmpdir_env = os.environ.get("TMPDIR")
        os.environ["TMPDIR"] = str(self.scratch)
        requested = self.config.getoption("benchmark_json", None)
        if requested is None:
            return
        self.target = check_json_path(requested)
        handle, name = tempfile.mkstemp(
            prefix=f".{self.target.name}.tmp-{os.getpid()}-", dir=self.target.parent
        )
        os.close(handle)
        self.staging = Path(name)
        self.config.option.benchmark_json = self.staging  # pytest-benchmark writes here

    @pytest.hookimpl(hookwrapper=True, tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int):
        self.interrupted = exitstatus == pytest.ExitCode.INTERRUPTED
        self.exitstatus = int(exitstatus)
        yield
        self._publish()

    def pytest_benchmark_update_json(self, config, benchmarks, output_json) -> None:
        block = output_json.setdefault("tf2bench", {})
        block[PARTIAL_KEY] = self.interrupted
        block["exitstatus"] = self.exitstatus  # so a file with no benchmarks can say why

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        if self.scratch is not None:
            tempfile.tempdir = self.previous_tempdir
            if self.previous_tmpdir_env is None:
                os.environ.pop("TMPDIR", None)
            else:
                os.environ["TMPDIR"] = self.previous_tmpdir_env
            shutil.rmtree(self.scratch, ignore_errors=True)
            self.scratch = None
        if self.staging is not None:  # the session never finished: nothing to publish
            with contextlib.suppress(OSError):
                self.staging.unlink()

    def _publish(self) -> None:
        staging, self.staging = self.staging, None
        if staging is None or self.target is None:
            return
        if staging.stat().st_size == 0:  # pytest-benchmark wrote nothing (no benchmark ran)
            staging.unlink()
            return
        staging.chmod(0o644)  # mkstemp makes it private; results are meant to be shared
        os.replace(staging, self.target)
