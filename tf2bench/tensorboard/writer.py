"""Results as TensorBoard summaries, the writer: the sessions of `summaries` as event files."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tf2bench.errors import UsageError
from tf2bench.records.schema import RunResults
from tf2bench.tensorboard.paths import check_paths, prepare_logdir, run_folder_name
from tf2bench.tensorboard.summaries import (
    HPARAMS,
    SAMPLES_TAG,
    SCALAR_PREFIX,
    SCALARS,
    Session,
    fingerprint_text,
    series,
    sessions_of,
)

__all__ = ["SummaryReport", "write_summaries"]


@dataclass(frozen=True)
class SummaryReport:
    """What a write produced: the logdir, the series' run folder, sessions and steps."""

    logdir: Path
    label: str
    sessions: int
    steps: int


def write_summaries(
    runs: Sequence[RunResults], logdir: str | Path, label: str | None = None
) -> SummaryReport:
    """Writes the hparams_config at `logdir` and `runs` as one series under LOGDIR/<label>:
    file number i (in commit-date order) at step i, each benchmark a session of its own.

    Args:
        runs: loaded results files (`tf2bench.records.schema.load_results`).
        logdir: the TensorBoard logdir; created if needed.
        label: the series' run folder; default: the first file's name without suffix.

    Raises:
        OutputError: `logdir` cannot be written.
    """
    root = prepare_logdir(logdir, what="summaries")  # before the slow imports: fail fast
    if not runs:
        raise UsageError("Received no results files, expected at least one")
    import tensorflow as tf
    from tensorboard.plugins.hparams import api as hp

    chosen = _unused_label(root, run_folder_name(label or _default_label(runs[0])), taken=[])
    ordered = series(runs)
    by_folder: dict[str, list[Session]] = {}
    for step, run in ordered:
        for session in sessions_of(run, chosen, step):
            by_folder.setdefault(session.run, []).append(session)
    check_paths(root, [chosen, *by_folder])  # all or nothing is written
    first = [steps[0] for steps in by_folder.values()]
    config = _hparams_config_pb(first)
    _write(root, lambda: tf.summary.experimental.write_raw_pb(config.SerializeToString(), step=0))

    def write_fingerprints() -> None:
        for step, run in ordered:
            tf.summary.text("fingerprint", fingerprint_text(run), step=step)

    _write(root / chosen, write_fingerprints)
    for steps in by_folder.values():

        def write_session(steps: list[Session] = steps) -> None:
            hp.hparams(steps[0].hparams, trial_id=steps[0].trial_id)
            for session in steps:
                for tag, value in session.scalars.items():
                    tf.summary.scalar(SCALAR_PREFIX + tag, value, step=session.step)
                if session.samples:
                    tf.summary.histogram(
                        SCALAR_PREFIX + SAMPLES_TAG, list(session.samples), step=session.step
                    )

        _write(root / steps[0].run, write_session)
    return SummaryReport(logdir=root, label=chosen, sessions=len(by_folder), steps=len(ordered))


def _hparams_config_pb(sessions: Sequence[Session]):
    """The root experiment summary: every hparam and metric, those that vary flagged `differs`.

    NOTE: no Discrete domains. TensorBoard keeps the first hparams_config it reads at the
    root, so domains from a first write would hide values that later writes add. `differs`
    (which TensorBoard sorts first and shows by default) is computed from this write's sessions.
    """
    from tensorboard.plugins.hparams import api as hp
    from tensorboard.plugins.hparams import api_pb2, plugin_data_pb2

    summary = hp.hparams_config_pb(
        hparams=[hp.HParam(name, description=text) for name, text in _hparam_names(sessions)],
        metrics=[
            hp.Metric(SCALAR_PREFIX + tag, display_name=display, description=text)
            for tag, (display, text) in SCALARS.items()
        ],
    )
    plugin_data = summary.value[0].metadata.plugin_data
    content = plugin_data_pb2.HParamsPluginData.FromString(plugin_data.content)
    for info in content.experiment.hparam_infos:
        values = {session.hparams.get(info.name) for session in sessions}
        info.differs = len(values) > 1
        numeric = info.name == "batch_size"
        info.type = api_pb2.DATA_TYPE_FLOAT64 if numeric else api_pb2.DATA_TYPE_STRING
    plugin_data.content = content.SerializeToString()
    return summary


def _hparam_names(sessions: Sequence[Session]) -> list[tuple[str, str]]:
    """HPARAMS, then every param.<key> the sessions carry (each its own filterable hparam)."""
    params = sorted({name for s in sessions for name in s.hparams if name not in HPARAMS})
    return [*HPARAMS.items(), *((name, f"family parameter {name[6:]}") for name in params)]


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
