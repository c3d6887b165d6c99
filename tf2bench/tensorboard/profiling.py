"""TensorBoard profiles of a benchmark taken after its timed rounds: step-marked traces, overhead.

A capture, per benchmark, into one run folder named after it:

    LOGDIR/<family>/<benchmark>/plugins/profile/<timestamp>/<host>.xplane.pb   the profile
    LOGDIR/<family>/<benchmark>/tf2bench-profile.<timestamp>.json              overhead, options
    LOGDIR/<family>/<benchmark>/events.out.tfevents.*                          tf.function graph

Steps run first without the profiler, then under it, each wrapped in
``tf.profiler.experimental.Trace(name, step_num=i, _r=1)`` so TensorBoard's overview page
sees steps; the ratio of the median step times is the profiling overhead. Nothing in the
logdir is deleted or overwritten. Profiling never fails a benchmark: `ProfileHook` turns any
failure into a `ProfileWarning` that pytest prints in its warnings summary.
"""

from __future__ import annotations

import contextlib
import json
import statistics
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from tf2bench.errors import OutputError, ProfilerBusyError, UsageError
from tf2bench.records.schema import BenchRecord
from tf2bench.tensorboard.paths import prepare_logdir, run_folder_name

__all__ = [
    "MAX_STEPS",
    "ProfileHook",
    "ProfileResult",
    "ProfileWarning",
    "ProfilerSettings",
    "TRACER_LEVELS",
    "concrete_graph",
    "prepare_logdir",
    "profile_call",
    "run_folder_name",
    "tracer_options",
]

MAX_STEPS = 10
SIDECAR_PREFIX = "tf2bench-profile."
# ProfilerSettings field -> its valid levels; the plugin's and the CLI's flags come from this.
TRACER_LEVELS = {
    "host_tracer_level": (1, 2, 3),
    "python_tracer_level": (0, 1),
    "device_tracer_level": (0, 1),
}
# Modes whose step is a tf.function with a graph worth showing in the Graphs tab.
GRAPH_MODES = ("autograph", "xla")


class ProfileWarning(UserWarning):
    """A profile could not be taken; the benchmark's measurement stands."""


@dataclass(frozen=True)
class ProfilerSettings:
    """What a capture records (`tf.profiler.experimental.ProfilerOptions` plus step count).

    Attributes:
        host_tracer_level: 1 critical host events only, 2 info (TF ops), 3 verbose.
        python_tracer_level: 1 traces Python function calls (slow, large traces), 0 off.
        device_tracer_level: 1 traces GPU kernels and copies, 0 off.
        steps: profiled steps, 1..MAX_STEPS; the same number runs unprofiled for the overhead.
        graph: also write the tf.function graph of autograph/XLA steps for the Graphs tab.
    """

    host_tracer_level: int = 2
    python_tracer_level: int = 0
    device_tracer_level: int = 1
    steps: int = MAX_STEPS
    graph: bool = True

    def __post_init__(self) -> None:
        choices = {**TRACER_LEVELS, "steps": tuple(range(1, MAX_STEPS + 1))}
        for name, valid in choices.items():
            value = getattr(self, name)
            if isinstance(value, bool) or value not in valid:
                raise UsageError(
                    f"Received an invalid `{name}`, expected one of "
                    f"{', '.join(map(str, valid))}. Received: {name}={value!r}"
                )

    def tf_options(self) -> Any:
        import tensorflow as tf

        return tf.profiler.experimental.ProfilerOptions(
            host_tracer_level=self.host_tracer_level,
            python_tracer_level=self.python_tracer_level,
            device_tracer_level=self.device_tracer_level,
        )


def tracer_options() -> list[tuple[str, str, int, tuple[int, ...]]]:
    """(tracer, field, default, levels) per tracer field of ProfilerSettings, e.g. ('host', ...)."""
    return [
        (
            field.name.removesuffix("_tracer_level"),
            field.name,
            field.default,
            TRACER_LEVELS[field.name],
        )
        for field in fields(ProfilerSettings)
        if field.name in TRACER_LEVELS
    ]


@dataclass(frozen=True)
class ProfileResult:
    """One capture: where it went and the step times with and without the profiler (seconds)."""

    run_dir: Path
    profile_dir: Path
    sidecar: Path
    unprofiled_s: tuple[float, ...]
    profiled_s: tuple[float, ...]
    graph_written: bool

    @property
    def overhead_ratio(self) -> float:
        """Median step time under the profiler over the median step time without it."""
        return statistics.median(self.profiled_s) / statistics.median(self.unprofiled_s)


def concrete_graph(call: Callable[[], Any]) -> Any | None:
    """The traced graph behind a zero-argument step, or None when it is not a tf.function step.

    Understands tf2bench's `Step` (a tf.function `fn` applied to `args`) and a tf.function that
    takes no arguments. `get_concrete_function` on already-seen inputs reuses the existing
    trace, so this does not retrace.
    """
    fn, args = getattr(call, "fn", call), getattr(call, "args", ())
    if not hasattr(fn, "get_concrete_function") or not isinstance(args, tuple):
        return None
    return fn.get_concrete_function(*args).graph


def profile_call(
    call: Callable[[], Any],
    run_dir: str | Path,
    *,
    step_name: str,
    settings: ProfilerSettings = ProfilerSettings(),
    sync: Callable[[], None] | None = None,
    graph: Any | None = None,
    clock: Callable[[], float] = time.perf_counter,
    details: dict[str, Any] | None = None,
) -> ProfileResult:
    """Runs `call` unprofiled, then under the profiler with step markers, into `run_dir`.

    Args:
        call: the benchmark's zero-argument step (for input pipelines it includes `next()`).
        run_dir: the benchmark's run folder; created if needed, never emptied.
        step_name: the name of each step marker (the overview page shows "NAME i").
        settings: tracer levels and step count.
        sync: device sync ending each step (GPU), or None.
        graph: a tf.Graph to write for the Graphs tab, or None.
        clock: monotonic seconds.
        details: extra JSON fields for the sidecar file (for example the benchmark name).

    Raises:
        ProfilerBusyError: another profiler session is running in this process.
        OutputError: `run_dir` cannot be written, or the profiler wrote nothing.
    """
    import tensorflow as tf

    run_dir = prepare_logdir(run_dir)
    graph_written = graph is not None and _write_graph(graph, run_dir)

    def timed_step(marked: bool, index: int) -> float:
        start = clock()
        marker = (
            tf.profiler.experimental.Trace(step_name, step_num=index, _r=1)
            if marked
            else contextlib.nullcontext()
        )
        with marker:
            call()
            if sync is not None:
                sync()  # inside the marker, so the step's device work is in the step
        return clock() - start

    unprofiled = tuple(timed_step(False, index) for index in range(settings.steps))
    profile_root = run_dir / "plugins" / "profile"
    before = _subfolders(profile_root)
    _wait_for_fresh_folder_name(profile_root, before)
    try:
        tf.profiler.experimental.start(str(run_dir), options=settings.tf_options())
    except tf.errors.AlreadyExistsError:
        raise ProfilerBusyError(
            "cannot start the TensorFlow profiler: another profiler session is already running "
            "in this process (tf.profiler.experimental.start() or a Keras TensorBoard callback "
            "with profile_batch was not stopped); call tf.profiler.experimental.stop() first"
        ) from None
    try:
        profiled = tuple(timed_step(True, index) for index in range(settings.steps))
    finally:
        tf.profiler.experimental.stop()
    new = sorted(_subfolders(profile_root) - before)
    if not new:
        raise OutputError(f"the profiler wrote no profile under {str(profile_root)!r}")
    result = ProfileResult(
        run_dir=run_dir,
        profile_dir=profile_root / new[-1],
        sidecar=run_dir / f"{SIDECAR_PREFIX}{new[-1]}.json",
        unprofiled_s=unprofiled,
        profiled_s=profiled,
        graph_written=graph_written,
    )
    _write_sidecar(result, settings, details or {})
    return result


class ProfileHook:
    """A Harness after-hook: profiles each measured benchmark into `logdir/<family>/<name>`."""

    def __init__(self, logdir: str | Path, settings: ProfilerSettings = ProfilerSettings()) -> None:
        self.logdir = prepare_logdir(logdir)
        self.settings = settings

    def __repr__(self) -> str:
        return f"ProfileHook({str(self.logdir)!r})"

    def __call__(self, call: Callable[[], Any], record: BenchRecord, name: str) -> dict[str, float]:
        """Returns {'profile_overhead_ratio': ratio}, or {} with a ProfileWarning on failure."""
        from tf2bench.harness.devices import sync_function

        try:
            graph = None
            if self.settings.graph and record.mode in GRAPH_MODES:
                graph = concrete_graph(call)
            result = profile_call(
                call,
                self.logdir / run_folder_name(record.family) / run_folder_name(name),
                step_name=record.workload,
                settings=self.settings,
                sync=sync_function(record.device),
                graph=graph,
                details={"benchmark": name, "family": record.family, "label": record.label()},
            )
        except Exception as error:  # noqa: BLE001 - profiling never fails the measurement
            message = str(error).splitlines()[0] if str(error) else error.__class__.__name__
            warnings.warn(
                f"tf2bench: no profile for {name}: {message}", ProfileWarning, stacklevel=2
            )
            return {}
        return {"profile_overhead_ratio": result.overhead_ratio}


def _subfolders(path: Path) -> set[str]:
    return {child.name for child in path.iterdir() if child.is_dir()} if path.is_dir() else set()


def _wait_for_fresh_folder_name(profile_root: Path, existing: set[str]) -> None:
    # NOTE: TensorFlow names a capture's folder by the second it stops; a second capture of the
    # same benchmark within that second would write into (and overwrite) the previous one.
    if existing:
        latest = max((profile_root / name).stat().st_mtime for name in existing)
        time.sleep(max(0.0, latest + 1.05 - time.time()))


def _write_graph(graph: Any, run_dir: Path) -> bool:
    import tensorflow as tf

    writer = tf.summary.create_file_writer(str(run_dir))
    try:
        with writer.as_default():
            return bool(tf.summary.graph(graph))
    finally:
        writer.close()


def _write_sidecar(result: ProfileResult, settings: ProfilerSettings, details: dict) -> None:
    document = {
        **details,
        "profile": str(result.profile_dir.relative_to(result.run_dir)),
        "steps": settings.steps,
        "profiler_options": asdict(settings),
        "step_s_without_profiler": list(result.unprofiled_s),
        "step_s_with_profiler": list(result.profiled_s),
        "median_step_s_without_profiler": statistics.median(result.unprofiled_s),
        "median_step_s_with_profiler": statistics.median(result.profiled_s),
        "profile_overhead_ratio": result.overhead_ratio,
        "graph_written": result.graph_written,
    }
    try:
        with result.sidecar.open("x", encoding="utf-8") as handle:  # "x": never overwrite
            json.dump(document, handle, indent=2)
    except OSError as error:
        raise OutputError(f"cannot write {str(result.sidecar)!r}: {error.strerror}") from None
