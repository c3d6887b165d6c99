"""The tf2bench exceptions; every message is one line: what was expected, what was received.

Tf2benchError
 +-- UsageError        bad option, preset, family, device, spec or name
 +-- RecordError       a results file that is not usable tf2bench / pytest-benchmark JSON
 +-- OutputError       a folder or file that cannot be written
 +-- ProfilerBusyError a TensorFlow profiler session is already running in this process
 +-- MeasurementError  a benchmark whose numbers cannot be trusted
      +-- RetraceError  a tf.function retraced inside the timed rounds
      +-- EquivalenceError  a variant did not compute what the reference computed
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "EquivalenceError",
    "MeasurementError",
    "OutputError",
    "ProfilerBusyError",
    "RecordError",
    "RetraceError",
    "Tf2benchError",
    "UsageError",
    "expect_choice",
    "expect_int",
]


class Tf2benchError(Exception):
    """Base class; `str(error)` is a complete one-line message for the user."""


class UsageError(Tf2benchError, ValueError):
    """An option, name or spec outside what tf2bench accepts."""


class RecordError(Tf2benchError):
    """A results file that cannot be read as tf2bench / pytest-benchmark JSON."""


class OutputError(Tf2benchError):
    """An output location that cannot be written."""


class ProfilerBusyError(Tf2benchError):
    """A TensorFlow profiler session is already running in this process."""


class MeasurementError(Tf2benchError):
    """A benchmark whose measurement is invalid."""


class RetraceError(MeasurementError):
    """A tf.function traced again during the timed rounds."""


class EquivalenceError(MeasurementError):
    """A variant's output differs from the reference beyond the stated tolerance."""


def expect_choice(what: str, value: str, valid: tuple[str, ...] | list[str]) -> str:
    """Returns `value` if it is one of `valid`, else raises a one-line UsageError listing them."""
    if value not in valid:
        raise UsageError(
            f"Received an invalid {what}, expected one of {', '.join(valid)}. Received: {value!r}"
        )
    return value


def expect_int(name: str, value: Any, *, minimum: int, meaning: str) -> int:
    """Returns `value` if it is an integer >= `minimum` (not a bool), else a one-line UsageError."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise UsageError(
            f"Received an invalid `{name}`, expected an integer >= {minimum} ({meaning}). "
            f"Received: {name}={value!r}"
        )
    return value
