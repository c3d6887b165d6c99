"""Presets that bound the benchmark matrix, and the families and devices a run may select.

No TensorFlow here: the pytest plugin reads these at configure time, before TF starts.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TypeVar

from tf2bench.errors import UsageError, expect_choice
from tf2bench.records.families import family_names

__all__ = [
    "DEVICE_KINDS",
    "FAMILIES",
    "PRESETS",
    "active_preset",
    "parse_list",
    "pick",
    "set_active_preset",
]

PRESETS = ("quick", "standard", "full")
DEFAULT_PRESET = "standard"
PRESET_ENV = "TF2BENCH_PRESET"
FAMILIES = family_names()
DEVICE_KINDS = ("cpu", "gpu")

T = TypeVar("T")

_active: str | None = None


def set_active_preset(name: str) -> None:
    """Sets the preset for this process (the pytest plugin does this from its option)."""
    global _active
    _active = expect_choice("preset", name, PRESETS)


def active_preset() -> str:
    """The preset in force: the pytest option, else $TF2BENCH_PRESET, else 'standard'."""
    if _active is not None:
        return _active
    return expect_choice("preset", os.environ.get(PRESET_ENV) or DEFAULT_PRESET, PRESETS)


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
