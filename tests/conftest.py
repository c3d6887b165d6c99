"""Shared test fixtures: quiet TensorFlow logs, pytester for plugin tests, a fake clock, no GPU.

Markers (registered by the tf2bench plugin): `slow` marks what takes more than a few seconds;
`make test-fast` runs the rest. A test that runs pytest through `pytester` is slow by rule (a
pytest-in-pytest run imports TensorFlow again: 10-40 s).
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# NOTE: under `make test` (pytest-xdist) a worker exports these; a pytest that a test starts would
# inherit them, and pytest-benchmark there would take itself for an xdist worker and not measure.
for _name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID"):
    os.environ.pop(_name, None)

import pytest  # noqa: E402

pytest_plugins = ["pytester"]


class FakeClock:
    """A clock that advances by a fixed step on every read, so timings are exact."""

    def __init__(self, step: float = 0.5) -> None:
        self.t = 0.0
        self.step = step
        self.reads = 0

    def __call__(self) -> float:
        self.reads += 1
        self.t += self.step
        return self.t


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "pytester" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def no_gpu(monkeypatch):
    """Hides any GPU from the processes a test starts, and the user's tf2bench settings."""
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "-1")
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")
    for name in ("TF2BENCH_DEVICE", "TF2BENCH_THREADS", "TF2BENCH_FAMILY"):
        monkeypatch.delenv(name, raising=False)
