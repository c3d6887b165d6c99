"""Presets that bound the benchmark matrix, and the families and devices a run may select.

No TensorFlow here: the pytest plugin reads these at configure time, before TF starts.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from tf2bench.errors import UsageError, expect_choice
from tf2bench.records.families import family_names

__all__ = [
    "DEVICE_KINDS",
    "FAMILIES",
    "PRESETS",
    "ROUND_SECONDS",
    "active_preset",
    "parse_list",
    "pick",
]

PRESETS = ("quick", "standard", "full")
DEFAULT_PRESET = "standard"
FAMILIES = family_names()
DEVICE_KINDS = ("cpu", "gpu")
# Seconds of timed rounds per benchmark and process (pytest-benchmark's --benchmark-max-time)
# unless the command line sets it. The standard preset's 560 CPU benchmarks took 39 minutes in
# 3 processes at 0.5 s here (about 12 more at 1 s), and 0.5 s still gives a sub-millisecond
# step 1000+ rounds.
ROUND_SECONDS = {"quick": 1.0, "standard": 0.5, "full": 1.0}

T = TypeVar("T")


def active_preset() -> str:
    """The preset of this process: $TF2BENCH_PRESET, which the pytest plugin sets from its option.

    See `tf2bench.settings`: benchmark modules pick their matrix at import time, before any
    fixture could hand them the run's settings.
    """
    from tf2bench.settings import environment_preset

    return environment_preset()


def pick(*, quick: T, standard: T, full: T | None = None) -> T:
    """The value for the active preset; `full` falls back to `standard`."""
    preset = active_preset()
    if preset == "quick":
        return quick
    if preset == "full" and full is not None:
        return full
    return standard


def parse_list(what: str, text: str, valid: Iterable[str]) -> tuple[str, ...]:
    """Parses 'a,b' into ('a', 'b'), refusing names outside `valid` with a one-line error."""
    valid = tuple(valid)
    names = tuple(part.strip().lower() for part in text.split(",") if part.strip())
    if not names:
        raise UsageError(f"Received an empty {what} list, expected some of {', '.join(valid)}.")
    for name in names:
        expect_choice(what, name, valid)
    return names
