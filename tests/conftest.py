"""Shared test fixtures: quiet TensorFlow logs, pytester for plugin tests, a fake clock."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

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
