"""Profile capture: run folders, step counts, the overhead sidecar, graphs, and its refusals."""

from __future__ import annotations

import json
import statistics
import warnings

import pytest

tf = pytest.importorskip("tensorflow")

from tensorboard.backend.event_processing.event_file_loader import (  # noqa: E402
    EventFileLoader,
)

from tf2bench.errors import OutputError, ProfilerBusyError, UsageError  # noqa: E402
from tf2bench.records.schema import BenchRecord  # noqa: E402
from tf2bench.tensorboard.profiling import (  # noqa: E402
    MAX_STEPS,
    ProfileHook,
    ProfilerSettings,
    ProfileWarning,
    concrete_graph,
    prepare_logdir,
    profile_call,
    run_folder_name,
)


@tf.function
def _matmul_relu(x, w):
    return tf.reduce_sum(tf.nn.relu(tf.matmul(x, w)))


class _Step:
    """A tf2bench-style step: a tf.function `fn` applied to `args`, counting its calls."""

    def __init__(self) -> None:
        self.fn = _matmul_relu
        self.args = (tf.ones([8, 16]), tf.ones([16, 4]))
        self.calls = 0

    def __call__(self):
        self.calls += 1
        return self.fn(*self.args)


@pytest.fixture
def step() -> _Step:
    built = _Step()
    built()  # traced before profiling, as after a benchmark's timed rounds
    return built


def _graph_ops(run_dir) -> set[str]:
    ops = set()
    for path in run_dir.glob("events.out.tfevents.*"):
        for event in EventFileLoader(str(path)).Load():
            if event.HasField("graph_def"):
                graph = tf.compat.v1.GraphDef.FromString(event.graph_def)
                ops |= {node.op for node in graph.node}
    return ops


@pytest.mark.parametrize(
    ("name", "folder"),
    [
        ("test_step[cpu-mlp_train-autograph-32]", "test_step.cpu-mlp_train-autograph-32"),
        ("test_x[a b/c]", "test_x.a.b.c"),
        ("execution", "execution"),
    ],
)
def test_run_folder_is_named_after_the_benchmark(name, folder):
    assert run_folder_name(name) == folder


def test_a_name_without_usable_characters_is_refused():
    with pytest.raises(UsageError, match=r"no usable characters: '\[\]'"):
        run_folder_name("[]")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("host_tracer_level", 0),
        ("python_tracer_level", 2),
        ("device_tracer_level", True),
        ("steps", 0),
        ("steps", MAX_STEPS + 1),
    ],
)
def test_settings_outside_the_profiler_levels_are_refused(field, value):
    with pytest.raises(UsageError, match=rf"invalid `{field}`.*Received: {field}={value!r}$"):
        ProfilerSettings(**{field: value})


def test_capture_writes_profile_steps_overhead_and_graph(tmp_path, step):
    settings = ProfilerSettings(steps=4, python_tracer_level=1)
    tracing_before = step.fn.experimental_get_tracing_count()
    result = profile_call(
        step,
        tmp_path / "execution" / "bench",
        step_name="train",
        settings=settings,
        graph=concrete_graph(step),
        details={"benchmark": "bench"},
    )
    assert step.calls == 1 + 2 * settings.steps  # the fixture's call, unprofiled, profiled
    assert step.fn.experimental_get_tracing_count() == tracing_before  # no retrace
    assert list(result.profile_dir.glob("*.xplane.pb"))
    assert result.profile_dir.parent == tmp_path / "execution" / "bench" / "plugins" / "profile"
    sidecar = json.loads(result.sidecar.read_text())
    assert sidecar["benchmark"] == "bench"
    assert sidecar["steps"] == 4 and len(sidecar["step_s_with_profiler"]) == 4
    assert sidecar["profiler_options"]["python_tracer_level"] == 1
    expected = statistics.median(sidecar["step_s_with_profiler"]) / statistics.median(
        sidecar["step_s_without_profiler"]
    )
    assert sidecar["profile_overhead_ratio"] == pytest.approx(expected)
    assert result.overhead_ratio == pytest.approx(expected) and expected > 0
    assert result.graph_written and {"MatMul", "Relu", "Sum"} <= _graph_ops(result.run_dir)


def test_input_pipeline_step_consumes_one_element_per_step(tmp_path):
    iterator = iter(tf.data.Dataset.range(100))
    consumed = []
    profile_call(
        lambda: consumed.append(int(next(iterator))),
        tmp_path,
        step_name="pipeline",
        settings=ProfilerSettings(steps=3),
    )
    assert consumed == list(range(6))  # three steps without the profiler, three under it


def test_a_running_profiler_is_named_as_the_cause(tmp_path, step):
    tf.profiler.experimental.start(str(tmp_path / "someone_else"))
    try:
        with pytest.raises(ProfilerBusyError, match="another profiler session is already running"):
            profile_call(step, tmp_path / "mine", step_name="train")
        record = BenchRecord(family="execution", workload="w", mode="autograph")
        with pytest.warns(ProfileWarning, match=r"no profile for bench\[x\]: cannot start"):
            assert ProfileHook(tmp_path / "hook")(step, record, "bench[x]") == {}
    finally:
        tf.profiler.experimental.stop()
    assert not list((tmp_path / "mine").rglob("*.xplane.pb"))


def test_hook_returns_the_overhead_metric_and_graphs_only_compiled_modes(tmp_path, step):
    hook = ProfileHook(tmp_path, ProfilerSettings(steps=2))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ProfileWarning)
        compiled = hook(step, BenchRecord(family="execution", workload="w", mode="xla"), "b[1]")
        eager = hook(step, BenchRecord(family="execution", workload="w", mode="eager"), "b[2]")
    assert set(compiled) == set(eager) == {"profile_overhead_ratio"}
    BenchRecord(family="execution", workload="w", metrics=compiled)  # a schema metric name
    assert _graph_ops(tmp_path / "execution" / "b.1")
    assert not list((tmp_path / "execution" / "b.2").glob("events.out.tfevents.*"))


def test_nothing_in_an_existing_logdir_is_deleted(tmp_path, step):
    run_dir = tmp_path / "bench"
    run_dir.mkdir()
    (run_dir / "notes.txt").write_text("mine")
    first = profile_call(step, run_dir, step_name="s", settings=ProfilerSettings(steps=1))
    second = profile_call(step, run_dir, step_name="s", settings=ProfilerSettings(steps=1))
    assert (run_dir / "notes.txt").read_text() == "mine"
    assert first.profile_dir != second.profile_dir and first.sidecar != second.sidecar
    assert all(path.exists() for path in (first.profile_dir, first.sidecar, second.sidecar))


def test_a_logdir_that_cannot_be_written_is_refused_in_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(OutputError) as error:
        prepare_logdir(blocker / "logs")
    message = str(error.value)
    assert "cannot write profiles to" in message and "expected a writable folder" in message
    assert "\n" not in message
    with pytest.raises(OutputError):
        ProfileHook(blocker)
    assert blocker.read_text() == "not a folder"
