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
import tempfile
from pathlib import Path

import pytest

from tf2bench.errors import OutputError
from tf2bench.interrupts import sigterm_as_interrupt
from tf2bench.tempdirs import remove_stale

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

    def configure(self) -> None:
        remove_stale()
        sigterm_as_interrupt()
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
