"""Results as TensorBoard summaries, the writer: the sessions of `summaries` as event files."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tf2bench.errors import UsageError
from tf2bench.records.schema import RunResults
from tf2bench.tensorboard.paths import prepare_logdir, run_folder_name
from tf2bench.tensorboard.summaries import HPARAMS, SCALAR_PREFIX, SCALARS, Session, sessions_of

__all__ = ["SummaryReport", "write_summaries"]


@dataclass(frozen=True)
class SummaryReport:
    """What a write produced: the logdir, and the run folder of each results file."""

    logdir: Path
    labels: tuple[str, ...]
    sessions: int


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
