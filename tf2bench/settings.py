"""Run settings: parsed once from the pytest options and the environment, then only read.

The pytest plugin parses a `RunSettings` at configure time and keeps it in `config.stash`;
everything else reads it from there. Two readers have no `config`: benchmark modules, which
pick their matrix at import time (`presets.pick`), and child processes (workers, `tf2bench
run`). For them the plugin exports the resolved values back to the environment
(`RunSettings.exported`), so every reader sees the same settings. No TensorFlow here.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tf2bench.errors import expect_choice
from tf2bench.presets import DEFAULT_PRESET, DEVICE_KINDS, FAMILIES, PRESETS, parse_list
from tf2bench.tensorboard.profiling import ProfilerSettings

__all__ = ["ENV", "RunSettings", "environment_preset", "environment_threads"]

# Setting -> environment variable: the only place these names are spelled.
ENV = {
    "preset": "TF2BENCH_PRESET",
    "device": "TF2BENCH_DEVICE",
    "family": "TF2BENCH_FAMILY",
    "threads": "TF2BENCH_THREADS",
    "profile": "TF2BENCH_PROFILE",
    "mnist": "TF2BENCH_MNIST",
    "unisolated_workers": "TF2BENCH_UNISOLATED_WORKERS",
    # Set by `tf2bench ab` for its paired processes (harness/turns.py), not by hand.
    "turns": "TF2BENCH_TURNS",
    "cpus": "TF2BENCH_CPUS",
}


def environment_preset(environ: Mapping[str, str] = os.environ) -> str:
    """The preset of $TF2BENCH_PRESET, else 'standard' (checked)."""
    text = (environ.get(ENV["preset"]) or DEFAULT_PRESET).strip().lower()
    return expect_choice("preset", text, PRESETS)


def environment_threads(environ: Mapping[str, str] = os.environ) -> str:
    """The threads setting of $TF2BENCH_THREADS, else 'all' (checked)."""
    from tf2bench.harness.runtime import ALL_THREADS, parse_threads

    return parse_threads(environ.get(ENV["threads"]) or ALL_THREADS)


@dataclass(frozen=True)
class RunSettings:
    """Everything a run was asked for; option first, then environment variable, then default.

    Attributes:
        preset: quick | standard | full.
        devices: device kinds to parametrize over.
        devices_explicit: the user named the devices (absent ones are then an error).
        families: families to keep; the others are deselected.
        threads: TensorFlow intra-op threads, 'all' or a positive integer as a string.
        profile_dir: where `--tf2bench-profile` puts profiles, or None.
        profiler: what a profile records.
        summaries_dir: where `--tf2bench-summaries` writes, or None.
    """

    preset: str = DEFAULT_PRESET
    devices: tuple[str, ...] = DEVICE_KINDS
    devices_explicit: bool = False
    families: tuple[str, ...] = FAMILIES
    threads: str = "all"
    profile_dir: Path | None = None
    profiler: ProfilerSettings = field(default_factory=ProfilerSettings)
    summaries_dir: Path | None = None

    @classmethod
    def parse(
        cls,
        *,
        preset: str | None = None,
        device: str | None = None,
        family: str | None = None,
        threads: str | None = None,
        profile: str | None = None,
        summaries: str | None = None,
        profiler: ProfilerSettings | None = None,
        environ: Mapping[str, str] = os.environ,
    ) -> RunSettings:
        """Parses option values (None when not given) over `environ`.

        Raises:
            UsageError: one line naming the bad value and the valid ones.
        """

        def given(option: str | None, name: str) -> str | None:
            return option or environ.get(ENV[name]) or None

        devices = given(device, "device")
        families = given(family, "family")
        profile_dir = given(profile, "profile")
        return cls(
            preset=environment_preset({ENV["preset"]: given(preset, "preset") or ""}),
            devices=parse_list("device", devices, DEVICE_KINDS) if devices else DEVICE_KINDS,
            devices_explicit=devices is not None,
            families=parse_list("family", families, FAMILIES) if families else FAMILIES,
            threads=environment_threads({ENV["threads"]: given(threads, "threads") or ""}),
            profile_dir=Path(profile_dir) if profile_dir else None,
            profiler=profiler or ProfilerSettings(),
            summaries_dir=Path(summaries) if summaries else None,
        )

    def exported(self) -> dict[str, str]:
        """The environment that makes import-time and child-process readers agree with us."""
        return {ENV["preset"]: self.preset, ENV["threads"]: self.threads}
