"""Presets, family and device lists: selection and one-line errors."""

from __future__ import annotations

import pytest

from tf2bench import presets
from tf2bench.errors import UsageError


@pytest.fixture(autouse=True)
def restore_preset(monkeypatch):
    monkeypatch.setattr(presets, "_active", None)


def test_default_preset_is_standard(monkeypatch):
    monkeypatch.delenv(presets.PRESET_ENV, raising=False)
    assert presets.active_preset() == "standard"
    assert presets.pick(quick=1, standard=2, full=3) == 2


def test_environment_selects_the_preset(monkeypatch):
    monkeypatch.setenv(presets.PRESET_ENV, "quick")
    assert presets.pick(quick=1, standard=2) == 1


def test_full_falls_back_to_standard():
    presets.set_active_preset("full")
    assert presets.pick(quick=1, standard=2) == 2
    assert presets.pick(quick=1, standard=2, full=3) == 3


def test_unknown_preset_lists_the_valid_ones():
    with pytest.raises(UsageError, match="expected one of quick, standard, full. Received: 'fast'"):
        presets.set_active_preset("fast")


def test_parse_list():
    assert presets.parse_list("device", " CPU, gpu ", presets.DEVICE_KINDS) == ("cpu", "gpu")
    with pytest.raises(
        UsageError, match="invalid device, expected one of cpu, gpu. Received: 'tpu'"
    ):
        presets.parse_list("device", "cpu,tpu", presets.DEVICE_KINDS)
    with pytest.raises(UsageError, match="empty family list"):
        presets.parse_list("family", ",", presets.FAMILIES)
