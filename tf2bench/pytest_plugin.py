"""tf2bench's pytest plugin: options, presets, the device parameter, fixtures, machine info.

Registered through the `pytest11` entry point. Importing it must not import TensorFlow: the
report tests run without it, and device listing here would fix TensorFlow's device
configuration before distribution benchmarks can set logical devices.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tf2bench.errors import Tf2benchError
from tf2bench.presets import DEVICE_KINDS, FAMILIES, PRESETS, ROUND_SECONDS
from tf2bench.settings import ENV, RunSettings

__all__ = ["FAMILY_MARKER", "SETTINGS"]

FAMILY_MARKER = "tf2bench_family"
# The run's settings, parsed once in pytest_configure; the other keys hold what they produce.
SETTINGS = pytest.StashKey[RunSettings]()
_PROFILE_HOOK = pytest.StashKey[object]()
_SUMMARIES_LINE = pytest.StashKey[str]()
_TURNS = pytest.StashKey[object]()
# pytest-benchmark options that mean "measure", so a plain `pytest` run stays a smoke test.
_MEASURING_OPTIONS = (
    "benchmark_only",
    "benchmark_enable",
    "benchmark_json",
    "benchmark_save",
    "benchmark_autosave",
    "benchmark_compare",
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tf2bench", "tf2bench benchmark suite")
    group.addoption(
        "--tf2bench-preset",
        default=None,
        help=f"bound the matrix: {', '.join(PRESETS)} (default: ${ENV['preset']} or standard)",
    )
    group.addoption(
        "--tf2bench-device",
        default=None,
        help=f"comma-separated device kinds: {', '.join(DEVICE_KINDS)} "
        f"(default: ${ENV['device']} or all; kinds not present skip with a reason)",
    )
    group.addoption(
        "--tf2bench-family",
        default=None,
        help=f"comma-separated families to run: {', '.join(FAMILIES)} "
        f"(default: ${ENV['family']} or all)",
    )
    group.addoption(
        "--tf2bench-threads",
        default=None,
        help=f"TensorFlow intra-op threads for the whole run: all or a positive integer "
        f"(default: ${ENV['threads']} or all); recorded in the fingerprint and every record",
    )
    group.addoption(
        "--tf2bench-profile",
        default=None,
        metavar="DIR",
        help=f"in a measuring run (--benchmark-only), after each benchmark's timed rounds, "
        f"profile a few steps into DIR/<family>/<benchmark> for TensorBoard "
        f"(default: ${ENV['profile']}; off when unset)",
    )
    from tf2bench.tensorboard.profiling import tracer_options

    for tracer, field, default, levels in tracer_options():
        group.addoption(
            f"--tf2bench-profile-{tracer}-tracer",
            type=int,
            default=default,
            help=f"profiler {field}, {min(levels)}-{max(levels)} (default: {default})",
        )
    group.addoption(
        "--tf2bench-summaries",
        default=None,
        metavar="DIR",
        help="at the end of the run, write the results as TensorBoard scalars and HParams "
        "sessions into DIR",
    )


def _given(config: pytest.Config, option: str) -> bool:
    """Whether the command line, PYTEST_ADDOPTS or the ini addopts set `option`."""
    words = [
        *config.invocation_params.args,
        *os.environ.get("PYTEST_ADDOPTS", "").split(),
        *config.getini("addopts"),
    ]
    return any(word == option or word.startswith(f"{option}=") for word in words)


def _parse_settings(config: pytest.Config) -> RunSettings:
    from tf2bench.tensorboard.profiling import ProfilerSettings, tracer_options

    profiler = ProfilerSettings(
        **{
            field: config.getoption(f"tf2bench_profile_{tracer}_tracer")
            for tracer, field, _, _ in tracer_options()
        }
    )
    return RunSettings.parse(
        preset=config.getoption("tf2bench_preset"),
        device=config.getoption("tf2bench_device"),
        family=config.getoption("tf2bench_family"),
        threads=config.getoption("tf2bench_threads"),
        profile=config.getoption("tf2bench_profile"),
        summaries=config.getoption("tf2bench_summaries"),
        profiler=profiler,
    )


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    # Keeps TensorFlow's C++ start-up chatter out of test output; the user's value wins.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    config.addinivalue_line("markers", f"{FAMILY_MARKER}(name): the benchmark family of a module")
    config.addinivalue_line(
        "markers", "gpu: needs a GPU; skipped with a reason where none is visible"
    )
    config.addinivalue_line("markers", "slow: takes more than a few seconds")
    try:
        settings = _parse_settings(config)
        from tf2bench.harness.turns import Turns, pin_to

        pin_to()  # before anything starts TensorFlow's thread pools
        if settings.devices_explicit:
            from tf2bench.harness.devices import check_requested, visible_kinds

            check_requested(settings.devices, visible_kinds())
        # Before any test runs: TensorFlow fixes its thread pool when it initialises.
        from tf2bench.harness.runtime import apply_threads

        apply_threads(settings.threads)
        if not _given(config, "--benchmark-max-time"):
            config.option.benchmark_max_time = ROUND_SECONDS[settings.preset]
        turns = Turns.from_environ(
            # pytest-benchmark leaves its defaults as text.
            max_time=float(config.getoption("benchmark_max_time", 1.0)),
            min_rounds=int(config.getoption("benchmark_min_rounds", 5)),
        )
        if turns is not None:
            config.stash[_TURNS] = turns
            config.pluginmanager.register(_TakingTurns(turns), "tf2bench-turns")
        _check_tensorboard_folders(config, settings)
        from tf2bench.run_guard import RunGuard  # temp clean-up, SIGTERM, --benchmark-json

        guard = RunGuard(config)
        guard.configure()
        config.pluginmanager.register(guard, "tf2bench-run-guard")
    except Tf2benchError as error:
        raise pytest.UsageError(str(error)) from None
    config.stash[SETTINGS] = settings
    # NOTE: benchmark modules pick their matrix at import time, and workers inherit this.
    os.environ.update(settings.exported())
    # pytest-benchmark's save and autosave drop the raw samples unless told to keep them; the
    # report, compare and the intervals need them.
    if config.getoption("benchmark_save", None) or config.getoption("benchmark_autosave", None):
        config.option.benchmark_save_data = True
    if not any(config.getoption(name, default=None) for name in _MEASURING_OPTIONS):
        # Plain `pytest`: run every benchmark body once, untimed (pytest-benchmark's disable).
        config.option.benchmark_disable = True


class _TakingTurns:
    """Each test, and the session's end, starts with this process's turn (harness/turns.py)."""

    def __init__(self, turns) -> None:
        self.turns = turns

    @pytest.hookimpl(hookwrapper=True, tryfirst=True)
    def pytest_runtest_protocol(self, item, nextitem):
        self.turns.next_test()
        yield

    @pytest.hookimpl(hookwrapper=True, tryfirst=True)
    def pytest_sessionfinish(self, session):
        self.turns.finish()
        yield


def _check_tensorboard_folders(config: pytest.Config, settings: RunSettings) -> None:
    """Checks the profile and summaries folders up front, so a bad one stops the run at once."""
    from tf2bench.tensorboard.paths import prepare_logdir

    if settings.profile_dir is not None:
        from tf2bench.tensorboard.profiling import ProfileHook

        config.stash[_PROFILE_HOOK] = ProfileHook(settings.profile_dir, settings.profiler)
    if settings.summaries_dir is not None:
        prepare_logdir(settings.summaries_dir, what="summaries")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "device" in metafunc.fixturenames:
        metafunc.parametrize("device", metafunc.config.stash[SETTINGS].devices, indirect=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    chosen = set(config.stash[SETTINGS].families)
    if chosen == set(FAMILIES):
        return
    kept, deselected = [], []
    for item in items:
        marker = item.get_closest_marker(FAMILY_MARKER)
        (deselected if marker and marker.args[0] not in chosen else kept).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept


def pytest_collection_finish(session: pytest.Session) -> None:
    """Splits the CPU into logical devices when distribute benchmarks will run (see runtime.py).

    After -k and family deselection, and before any test: TensorFlow is imported by the
    collected modules but has not initialised its devices yet.
    """
    markers = (item.get_closest_marker(FAMILY_MARKER) for item in session.items)
    if any(marker and marker.args[0] == "distribute" for marker in markers):
        from tf2bench.harness.runtime import split_cpu

        split_cpu()


@pytest.fixture
def device(request: pytest.FixtureRequest):
    """The Device of this benchmark; skips with a reason when its kind is not visible."""
    from tf2bench.harness.devices import Device, skip_reason, visible_kinds

    kind = request.param
    reason = skip_reason(kind, visible_kinds())
    if reason:
        pytest.skip(reason)
    return Device(kind)


@pytest.fixture
def harness(request: pytest.FixtureRequest, device, benchmark, pytestconfig):
    """A tf2bench Harness around pytest-benchmark's fixture, on this benchmark's device.

    Its family is the module's `tf2bench_family` marker; at the end of the benchmark it writes
    the measurement into extra_info once.
    """
    from tf2bench.harness.memory import probes_for
    from tf2bench.harness.runner import Harness

    marker = request.node.get_closest_marker(FAMILY_MARKER)
    profile_hook = pytestconfig.stash.get(_PROFILE_HOOK, None)
    harness = Harness(
        benchmark,
        device,
        pytestconfig.stash[SETTINGS].preset,
        family=marker.args[0] if marker else None,
        probes=probes_for(device),
        after_hooks=(profile_hook,) if profile_hook else (),
        turns=pytestconfig.stash.get(_TURNS, None),
    )
    yield harness
    harness.finish()


def pytest_sessionfinish(session: pytest.Session) -> None:
    # A plain hook runs after pytest-benchmark's hookwrapper has finished its benchmarks.
    settings = session.config.stash.get(SETTINGS, None)
    if settings is not None and settings.summaries_dir is not None:
        line = _write_run_summaries(session.config, settings.summaries_dir)
        session.config.stash[_SUMMARIES_LINE] = line


def _write_run_summaries(config: pytest.Config, logdir: Path) -> str:
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
    from tf2bench.records.schema import parse_results
    from tf2bench.tensorboard.writer import write_summaries

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
        report = write_summaries([results], logdir, label=f"pytest-{stamp}")
    except Tf2benchError as error:
        return f"no summaries written: {error}"
    return (
        f"wrote {report.sessions} HParams session(s) to {report.logdir / report.label}; "
        f"open with: tensorboard --logdir {report.logdir}"
    )


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    line = config.stash.get(_SUMMARIES_LINE, None)
    if line:
        terminalreporter.write_sep("-", "tf2bench summaries")
        terminalreporter.write_line(line)


def pytest_benchmark_update_machine_info(config: pytest.Config, machine_info: dict) -> None:
    from tf2bench.harness.environment import fingerprint
    from tf2bench.records.schema import BLOCK_KEY

    machine_info[BLOCK_KEY] = fingerprint()


def pytest_benchmark_update_json(
    config: pytest.Config, benchmarks: list, output_json: dict
) -> None:
    from tf2bench.records.schema import BLOCK_KEY, RUN_PARAMS
    from tf2bench.workloads.keras_compat import keras_label

    # Run-level settings (schema.RUN_PARAMS) go into every record's params, so records of runs
    # with different settings stay apart when their files are read together.
    settings = config.stash[SETTINGS] if config is not None else RunSettings.parse()
    values = {"threads": settings.threads, "keras": keras_label()}
    run_params = {name: values[name] for name in RUN_PARAMS}  # a new run param needs a value
    for entry in output_json.get("benchmarks", []):
        block = (entry.get("extra_info") or {}).get(BLOCK_KEY)
        if isinstance(block, dict):
            block["params"] = {**run_params, **block.get("params", {})}
