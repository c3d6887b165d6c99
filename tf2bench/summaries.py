"""Results as TensorBoard summaries: scalars per benchmark, one HParams session per configuration.

Layout written under LOGDIR (nothing there is deleted or overwritten; a label already in use
gets a numeric suffix):

    LOGDIR/events.out.tfevents.*                       hparams_config (hparams and metrics)
    LOGDIR/<label>/<family>/<benchmark>/events.*       the session: its hparams and scalars

A session's hparams are its configuration (family, workload, mode, style, device, batch,
preset, TF version, the family's params) and `run`, the label of its results file, so the
HParams view sets runs side by side. Its trial id is the benchmark's name and the label, so
every benchmark of every results file is a session group of its own, and TensorBoard never
averages two of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tf2bench.errors import Tf2benchError, UsageError
from tf2bench.harness.profiling import prepare_logdir, run_folder_name
from tf2bench.records.schema import BenchmarkResult, RunResults, parse_results

__all__ = [
    "HPARAMS",
    "SCALARS",
    "Session",
    "SummaryReport",
    "sessions_of",
    "write_pytest_summaries",
    "write_summaries",
]

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


@dataclass(frozen=True)
class SummaryReport:
    """What a write produced: the logdir, and the run folder of each results file."""

    logdir: Path
    labels: tuple[str, ...]
    sessions: int


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


def write_summaries(
    runs: Sequence[RunResults], logdir: str | Path, labels: Sequence[str] | None = None
) -> SummaryReport:
    """Writes the hparams_config at `logdir` and every benchmark of `runs` as a session.

    Args:
        runs: loaded results files (`tf2bench.records.schema.load_results`).
        logdir: the TensorBoard logdir; created if needed.
        labels: a run folder name per results file; default: each file's name without suffix.

    Raises:
        OutputError: `logdir` cannot be written.
    """
    root = prepare_logdir(logdir, what="summaries")  # before the slow imports: fail fast
    import tensorflow as tf
    from tensorboard.plugins.hparams import api as hp

    wanted = list(labels) if labels is not None else [_default_label(run) for run in runs]
    chosen: list[str] = []
    for wish in wanted:
        chosen.append(_unused_label(root, run_folder_name(wish), taken=chosen))
    if len(chosen) != len(runs):
        raise UsageError(f"Received {len(chosen)} labels for {len(runs)} results files")
    sessions = [
        session
        for run, label in zip(runs, chosen, strict=True)
        for session in sessions_of(run, label)
    ]
    config = _hparams_config_pb(sessions)
    _write(root, lambda: tf.summary.experimental.write_raw_pb(config.SerializeToString(), step=0))
    for session in sessions:

        def write_session(session: Session = session) -> None:
            hp.hparams(session.hparams, trial_id=session.trial_id)
            for tag, value in session.scalars.items():
                tf.summary.scalar(SCALAR_PREFIX + tag, value, step=0)

        _write(root / session.run, write_session)
    return SummaryReport(logdir=root, labels=tuple(chosen), sessions=len(sessions))


def write_pytest_summaries(config: Any, logdir: str | Path) -> str:
    """Writes the benchmarks of a finished pytest run (`--tf2bench-summaries`); never raises.

    Builds the document pytest-benchmark would write with --benchmark-json, through its own
    hooks (generate_json, then update_json as pytest-benchmark does), so the summaries match
    the JSON whether or not the run saved one.

    Returns:
        One line for the terminal saying what was written, or why nothing was.
    """
    session = getattr(config, "_benchmarksession", None)
    benchmarks = [bench for bench in getattr(session, "benchmarks", []) if bench]
    if not benchmarks:
        return f"no measured benchmarks, no summaries written to {logdir}"
    try:
        document = config.hook.pytest_benchmark_generate_json(
            config=config,
            benchmarks=benchmarks,
            include_data=False,
            machine_info=session.get_machine_info(),
            commit_info={},
        )
        config.hook.pytest_benchmark_update_json(
            config=config, benchmarks=benchmarks, output_json=document
        )
        results = parse_results(document, where="this pytest run")
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
        report = write_summaries([results], logdir, labels=[f"pytest-{stamp}"])
    except Tf2benchError as error:
        return f"no summaries written: {error}"
    return (
        f"wrote {report.sessions} HParams session(s) to {report.logdir / report.labels[0]}; "
        f"open with: tensorboard --logdir {report.logdir}"
    )


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


def _hparams_config_pb(sessions: Sequence[Session]):
    """The root experiment summary: every hparam and metric, those that vary flagged `differs`.

    NOTE: no Discrete domains. TensorBoard keeps the first hparams_config it reads at the
    root, so domains from a first write would hide values that later writes add. `differs`
    (which TensorBoard sorts first and shows by default) is computed from this write's sessions.
    """
    from tensorboard.plugins.hparams import api as hp
    from tensorboard.plugins.hparams import api_pb2, plugin_data_pb2

    summary = hp.hparams_config_pb(
        hparams=[hp.HParam(name, description=text) for name, text in HPARAMS.items()],
        metrics=[
            hp.Metric(SCALAR_PREFIX + tag, display_name=display, description=text)
            for tag, (display, text) in SCALARS.items()
        ],
    )
    plugin_data = summary.value[0].metadata.plugin_data
    content = plugin_data_pb2.HParamsPluginData.FromString(plugin_data.content)
    for info in content.experiment.hparam_infos:
        values = {session.hparams[info.name] for session in sessions}
        info.differs = len(values) > 1
        numeric = info.name == "batch_size"
        info.type = api_pb2.DATA_TYPE_FLOAT64 if numeric else api_pb2.DATA_TYPE_STRING
    plugin_data.content = content.SerializeToString()
    return summary


def _write(folder: Path, body) -> None:
    import tensorflow as tf

    writer = tf.summary.create_file_writer(str(folder))
    try:
        with writer.as_default():
            body()
    finally:
        writer.close()


def _default_label(run: RunResults) -> str:
    stem = Path(run.path).stem
    if stem and stem != "<memory>":
        return stem
    return f"run-{run.datetime or 'unknown'}"


def _unused_label(root: Path, label: str, *, taken: Sequence[str]) -> str:
    candidate, number = label, 1
    while candidate in taken or (root / candidate).exists():
        number += 1
        candidate = f"{label}-{number}"
    return candidate
