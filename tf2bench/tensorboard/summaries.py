"""Results as TensorBoard summaries, the mapping: one HParams session per benchmark (no TensorFlow).

Layout written under LOGDIR by `tf2bench.tensorboard.writer` (nothing there is deleted or
overwritten; a label already in use gets a numeric suffix):

    LOGDIR/events.out.tfevents.*                       hparams_config (hparams and metrics)
    LOGDIR/<label>/events.*                            each results file's fingerprint (text)
    LOGDIR/<label>/<family>/<benchmark>/events.*       the session: hparams, scalars, samples

The results files given together are one series: ordered by the commit date in their
fingerprints (as `tf2bench report` orders a history), file number i writes at step i, so the
Scalars and Time Series tabs draw each benchmark as a line over the runs. Raw samples go in as
a histogram per step. A session's hparams are its configuration (family, workload, mode,
style, device, batch as an integer, preset, TF version), each family param as its own
`param.<key>` hparam, and `run`, the series label. Its trial id is the benchmark's name and
the label, so TensorBoard never averages two benchmarks.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from tf2bench.records.schema import BenchmarkResult, RunResults
from tf2bench.report.history import ordered_runs
from tf2bench.tensorboard.paths import run_folder_name

__all__ = [
    "HPARAMS",
    "PARAM_PREFIX",
    "SAMPLES_TAG",
    "SCALARS",
    "SCALAR_PREFIX",
    "Session",
    "fingerprint_text",
    "series",
    "sessions_of",
]

ABSENT = "-"
SCALAR_PREFIX = "tf2bench/"
SAMPLES_TAG = "samples_s"  # the raw round times as a histogram (after SCALAR_PREFIX)
PARAM_PREFIX = "param."  # a family param's hparam name: param.phase, param.op, ...
# Scalar tag (after SCALAR_PREFIX) -> (display name, description); the HParams metrics.
SCALARS = {
    "median_s": ("median (s)", "median round time of the timed rounds, seconds"),
    "iqr_s": ("IQR (s)", "interquartile range of the round times, seconds"),
    "throughput_per_s": ("throughput (/s)", "items per second (see the item unit)"),
    "first_call_s": ("first call (s)", "first call: tracing + compilation + one run, seconds"),
}
# HParam name -> description. No domains: later runs may add values (see _hparams_config_pb).
HPARAMS = {
    "family": "benchmark family",
    "workload": "what ran (network, pipeline, function)",
    "mode": "eager | autograph | xla ('-' when the family has none)",
    "style": "model-building style ('-' when the family has none)",
    "device": "cpu | gpu",
    "batch_size": "batch size (0 when the workload has fixed shapes)",
    "preset": "quick | standard | full",
    "tensorflow": "TensorFlow version of the run",
    "run": "the series the numbers come from (its run folder label)",
}


@dataclass(frozen=True)
class Session:
    """One benchmark as an HParams session: where it goes, its config and its numbers."""

    run: str
    trial_id: str
    hparams: dict[str, str | int]
    scalars: dict[str, float]
    step: int = 0
    samples: tuple[float, ...] | None = None


def series(runs: Sequence[RunResults]) -> list[tuple[int, RunResults]]:
    """(step, results) of the files of one series, in commit-date order."""
    return [(step, run) for step, (run, _) in enumerate(ordered_runs(runs))]


def fingerprint_text(results: RunResults) -> str:
    """The fingerprint as Markdown for TensorBoard's Text tab (a JSON code block)."""
    body = json.dumps(results.fingerprint, indent=1, sort_keys=True, default=str)
    body = "\n".join("    " + line for line in body.splitlines())  # Markdown code block
    return f"**{results.path}** ({results.datetime or 'no date'})\n\n{body}"


def sessions_of(results: RunResults, label: str, step: int = 0) -> list[Session]:
    """The HParams sessions of one results file, under run folder `label` (no TensorFlow)."""
    tf_version = str(results.fingerprint.get("tensorflow") or "unknown")
    sessions: list[Session] = []
    for benchmark in results.benchmarks:
        record = benchmark.record
        preset = record.preset or results.fingerprint.get("preset") or ABSENT
        hparams: dict[str, str | int] = {
            "family": record.family,
            "workload": record.workload,
            "mode": record.mode or ABSENT,
            "style": record.style or ABSENT,
            "device": record.device,
            "batch_size": int(record.batch_size or 0),
            "preset": str(preset),
            "tensorflow": tf_version,
            "run": label,
            **{PARAM_PREFIX + key: str(value) for key, value in sorted(record.params.items())},
        }
        run = f"{label}/{run_folder_name(record.family)}/{run_folder_name(benchmark.name)}"
        # The name first: it is what the HParams table's narrow "Trial ID" column shows.
        trial_id = f"{benchmark.name} @{label}"
        if any(session.trial_id == trial_id for session in sessions):
            trial_id = f"{benchmark.fullname} @{label}"  # same name in another module
        sessions.append(
            Session(run, trial_id, hparams, _scalars(benchmark), step, benchmark.samples)
        )
    return sessions


def _scalars(benchmark: BenchmarkResult) -> dict[str, float]:
    record = benchmark.record
    values = {
        "median_s": benchmark.median_s,
        "iqr_s": benchmark.iqr_s,
        "throughput_per_s": record.throughput_per_s,
        "first_call_s": record.first_call_s,
        **{f"metrics/{name}": value for name, value in sorted(record.metrics.items())},
    }
    return {
        tag: float(value)
        for tag, value in values.items()
        if isinstance(value, (int, float)) and value == value  # drops None and NaN
    }
