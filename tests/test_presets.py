"""Presets, family and device lists: selection and one-line errors."""

from __future__ import annotations

from dataclasses import FrozenInstanceError

import pytest

from tf2bench import presets
from tf2bench.errors import UsageError
from tf2bench.settings import ENV, RunSettings


def test_default_preset_is_standard(monkeypatch):
    monkeypatch.delenv(ENV["preset"], raising=False)
    assert presets.active_preset() == "standard"
    assert presets.pick(quick=1, standard=2, full=3) == 2


def test_environment_selects_the_preset(monkeypatch):
    monkeypatch.setenv(ENV["preset"], "quick")
    assert presets.pick(quick=1, standard=2) == 1


def test_full_falls_back_to_standard(monkeypatch):
    monkeypatch.setenv(ENV["preset"], "full")
    assert presets.pick(quick=1, standard=2) == 2
    assert presets.pick(quick=1, standard=2, full=3) == 3


def test_unknown_preset_lists_the_valid_ones(monkeypatch):
    monkeypatch.setenv(ENV["preset"], "fast")
    with pytest.raises(UsageError, match="expected one of quick, standard, full. Received: 'fast'"):
        presets.pick(quick=1, standard=2)


def test_settings_take_the_option_over_the_environment_and_export_what_they_chose():
    environ = {ENV["preset"]: "full", ENV["threads"]: "3", ENV["family"]: "saving"}
    settings = RunSettings.parse(preset="Quick", device="cpu", environ=environ)
    assert (settings.preset, settings.threads, settings.families) == ("quick", "3", ("saving",))
    assert settings.devices == ("cpu",) and settings.devices_explicit
    assert settings.exported() == {ENV["preset"]: "quick", ENV["threads"]: "3"}
    defaults = RunSettings.parse(environ={})
    assert defaults == RunSettings() and not defaults.devices_explicit
    with pytest.raises(FrozenInstanceError):
        defaults.preset = "full"


def test_bad_settings_are_refused_in_one_line():
    with pytest.raises(UsageError, match="Received: 'tpu'"):
        RunSettings.parse(device="cpu,tpu", environ={})
    with pytest.raises(UsageError, match="expected 'all' or an integer from 1"):
        RunSettings.parse(environ={ENV["threads"]: "0"})


def test_parse_list():
    assert presets.parse_list("device", " CPU, gpu ", presets.DEVICE_KINDS) == ("cpu", "gpu")
    with pytest.raises(
        UsageError, match="invalid device, expected one of cpu, gpu. Received: 'tpu'"
    ):
        presets.parse_list("device", "cpu,tpu", presets.DEVICE_KINDS)
    with pytest.raises(UsageError, match="empty family list"):
        presets.parse_list("family", ",", presets.FAMILIES)
