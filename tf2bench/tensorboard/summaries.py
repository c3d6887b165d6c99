"""Results as TensorBoard summaries, the mapping: one HParams session per benchmark (no TensorFlow).

Layout written under LOGDIR by `tf2bench.tensorboard.writer` (nothing there is deleted or
overwritten; a label already in use gets a numeric suffix):

    LOGDIR/events.out.tfevents.*                       hparams_config (hparams and metrics)
    LOGDIR/<label>/<family>/<benchmark>/events.*       the session: its hparams and scalars

A session's hparams are its configuration (family, workload, mode, style, device, batch,
preset, TF version, the family's params) and `run`, the label of its results file, so the
HParams view sets runs side by side. Its trial id is the benchmark's name and the label, so
every benchmark of every results file is a session group of its own, and TensorBoard never
averages two of them.
"""

from __future__ import annotations

from dataclasses import dataclass

from tf2bench.records.schema import BenchmarkResult, RunResults
from tf2bench.tensorboard.paths import run_folder_name

__all__ = ["HPARAMS", "SCALARS", "SCALAR_PREFIX", "Session", "sessions_of"]

ABSENT = "-"
SCALAR_PREFIX = "tf2bench/"
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
    "params": "the family's own parameters, key=value, comma-separated",
    "run": "the results file the numbers come from (its run folder label)",
}


@dataclass(frozen=True)
class Session:
    """One benchmark as an HParams session: where it goes, its config and its numbers."""

    run: str
    trial_id: str
    hparams: dict[str, str | int]
    scalars: dict[str, float]


def sessions_of(results: RunResults, label: str) -> list[Session]:
    """The HParams sessions of one results file, under run folder `label` (no TensorFlow)."""
    tf_version = str(results.fingerprint.get("tensorflow") or "unknown")
    sessions: list[Session] = []
    for benchmark in results.benchmarks:
        record = benchmark.record
        preset = record.preset or results.fingerprint.get("preset") or ABSENT
        params = ",".join(f"{key}={value}" for key, value in sorted(record.params.items()))
        hparams = {
            "family": record.family,
            "workload": record.workload,
            "mode": record.mode or ABSENT,
            "style": record.style or ABSENT,
            "device": record.device,
            "batch_size": int(record.batch_size or 0),
            "preset": str(preset),
            "tensorflow": tf_version,
            "params": params or ABSENT,
            "run": label,
        }
        run = f"{label}/{run_folder_name(record.family)}/{run_folder_name(benchmark.name)}"
        # The name first: it is what the HParams table's narrow "Trial ID" column shows.
        trial_id = f"{benchmark.name} @{label}"
        if any(session.trial_id == trial_id for session in sessions):
            trial_id = f"{benchmark.fullname} @{label}"  # same name in another module
        sessions.append(Session(run, trial_id, hparams, _scalars(benchmark)))
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
