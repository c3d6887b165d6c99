"""Results as TensorBoard summaries, and the CLI/pytest refusals of the TensorBoard commands."""

from __future__ import annotations

import hashlib
import json
import math

import pytest

from tf2bench.cli import main
from tf2bench.records.schema import BLOCK_KEY, BenchRecord, parse_results
from tf2bench.tensorboard.summaries import HPARAMS, SCALAR_PREFIX, SCALARS, sessions_of

RECORDS = {
    "test_step[cpu-mlp_train-eager-32]": BenchRecord(
        family="execution", workload="mlp_train", mode="eager", batch_size=32,
        items_per_round=32, first_call_s=0.09, throughput_per_s=5000.0, preset="quick",
        params={"phase": "steady"},
    ),
    "test_step[cpu-mlp_train-xla-32]": BenchRecord(
        family="execution", workload="mlp_train", mode="xla", batch_size=32,
        items_per_round=32, first_call_s=0.4, throughput_per_s=20000.0, preset="quick",
        params={"phase": "steady"}, metrics={"profile_overhead_ratio": 1.25},
    ),
    "test_call[cpu-mlp-functional]": BenchRecord(
        family="model_styles", workload="mlp", style="functional", preset="quick",
        params={"op": "call"},
    ),
}  # fmt: skip
MEDIANS = {name: 0.001 * (index + 1) for index, name in enumerate(RECORDS)}


def _document() -> dict:
    return {
        "machine_info": {BLOCK_KEY: {"tensorflow": "2.21.0"}},
        "datetime": "2026-11-28T17:00:00+00:00",
        "version": "5.3.1",
        "benchmarks": [
            {
                "name": name,
                "fullname": f"benchmarks/test_x.py::{name}",
                "group": None,
                "params": {},
                "stats": {"median": MEDIANS[name], "iqr": MEDIANS[name] / 10, "data": [0.1]},
                "extra_info": {BLOCK_KEY: record.to_extra_info()},
            }
            for name, record in RECORDS.items()
        ],
    }


@pytest.fixture
def results_file(tmp_path):
    path = tmp_path / "quick.json"
    path.write_text(json.dumps(_document()))
    return path


def _tree(folder) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_each_benchmark_is_a_session_with_its_configuration_and_numbers():
    sessions = sessions_of(parse_results(_document(), where="doc"), "run1")
    by_run = {session.run: session for session in sessions}
    xla = by_run["run1/execution/test_step.cpu-mlp_train-xla-32"]
    assert xla.hparams == {
        "family": "execution", "workload": "mlp_train", "mode": "xla", "style": "-",
        "device": "cpu", "batch_size": 32, "preset": "quick", "tensorflow": "2.21.0",
        "param.phase": "steady", "run": "run1",
    }  # fmt: skip
    assert set(xla.hparams) == set(HPARAMS) | {"param.phase"}
    assert isinstance(xla.hparams["batch_size"], int)
    assert xla.scalars == pytest.approx(
        {"median_s": 0.002, "iqr_s": 0.0002, "throughput_per_s": 20000.0, "first_call_s": 0.4,
         "metrics/profile_overhead_ratio": 1.25}
    )  # fmt: skip
    styles = by_run["run1/model_styles/test_call.cpu-mlp-functional"]
    assert styles.hparams["batch_size"] == 0 and styles.hparams["mode"] == "-"
    assert set(styles.scalars) == {"median_s", "iqr_s"}  # no throughput or first call recorded
    assert xla.trial_id == "test_step[cpu-mlp_train-xla-32] @run1"
    assert len({session.trial_id for session in sessions}) == len(RECORDS)


def _read_events(folder):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(folder), size_guidance={"tensors": 0})
    accumulator.Reload()
    return accumulator


def test_summaries_hold_scalars_sessions_and_a_root_hparams_config(tmp_path, results_file, capsys):
    from tensorboard.plugins.hparams import metadata
    from tensorboard.util import tensor_util

    logdir = tmp_path / "tb"
    assert main(["summaries", str(results_file), "--logdir", str(logdir)]) == 0
    assert "3 sessions over 1 step(s)" in capsys.readouterr().out
    root = _read_events(logdir)
    experiment = metadata.parse_experiment_plugin_data(
        root.SummaryMetadata(metadata.EXPERIMENT_TAG).plugin_data.content
    )
    assert {info.name for info in experiment.hparam_infos} == set(HPARAMS) | {
        "param.phase", "param.op",
    }  # fmt: skip
    differs = {info.name for info in experiment.hparam_infos if info.differs}
    assert differs == {
        "family",
        "workload",
        "mode",
        "style",
        "batch_size",
        "param.phase",
        "param.op",
    }
    assert [info.name.tag for info in experiment.metric_infos] == [
        SCALAR_PREFIX + tag for tag in SCALARS
    ]
    session = _read_events(logdir / "quick" / "execution" / "test_step.cpu-mlp_train-xla-32")
    start = metadata.parse_session_start_info_plugin_data(
        session.SummaryMetadata(metadata.SESSION_START_INFO_TAG).plugin_data.content
    )
    assert start.hparams["mode"].string_value == "xla"
    assert start.hparams["batch_size"].number_value == 32
    assert start.group_name == "test_step[cpu-mlp_train-xla-32] @quick"
    assert start.hparams["run"].string_value == "quick"
    median = session.Tensors(SCALAR_PREFIX + "median_s")
    assert len(median) == 1 and median[0].step == 0
    assert math.isclose(tensor_util.make_ndarray(median[0].tensor_proto), 0.002, rel_tol=1e-6)


def test_a_second_write_adds_a_new_run_and_deletes_nothing(tmp_path, results_file):
    logdir = tmp_path / "tb"
    logdir.mkdir()
    (logdir / "notes.txt").write_text("mine")
    assert main(["summaries", str(results_file), "--logdir", str(logdir)]) == 0
    before = _tree(logdir)
    args = ["summaries", str(results_file), str(results_file), "--logdir", str(logdir)]
    assert main(args) == 0
    after = _tree(logdir)
    assert {name: after[name] for name in before} == before
    # The second write is one series of two steps, in a folder of its own.
    assert {path.name for path in logdir.iterdir() if path.is_dir()} == {"quick", "quick-2"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"runs": []}', "not pytest-benchmark JSON, expected an object with a 'benchmarks' list"),
        (
            '{"benchmarks": [{"name": "t", "stats": {"median": 1.0}, "extra_info": {}}]}',
            "not tf2bench results",
        ),
    ],
)
def test_a_results_file_that_is_not_tf2bench_json_is_refused(tmp_path, capsys, content, message):
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    assert main(["summaries", str(bad), "--logdir", str(tmp_path / "tb")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and error.startswith("tf2bench: error: ") and message in error
    assert not (tmp_path / "tb").exists()


def test_a_logdir_that_cannot_be_written_is_refused(tmp_path, results_file, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["summaries", str(results_file), "--logdir", str(blocker / "tb")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "cannot write summaries to" in error


def _results_at(tmp_path, index: int) -> str:
    """The test document as run `index` of a series: its own commit date, slower each time."""
    document = _document()
    document["machine_info"][BLOCK_KEY]["git_commit"] = f"c{index}".ljust(40, "0")
    document["machine_info"][BLOCK_KEY]["git_commit_date"] = f"2026-12-0{index + 1}T10:00:00Z"
    for entry in document["benchmarks"]:
        entry["stats"]["median"] *= 1 + index
        entry["stats"]["data"] = [entry["stats"]["median"] * f for f in (0.9, 1.0, 1.1)]
    path = tmp_path / f"run{index}.json"
    path.write_text(json.dumps(document))
    return str(path)


def test_many_results_files_are_one_series_with_a_step_each(tmp_path, capsys):
    from tensorboard.util import tensor_util

    files = [_results_at(tmp_path, index) for index in (2, 0, 1)]  # out of order on purpose
    logdir = tmp_path / "tb"
    assert main(["summaries", *files, "--logdir", str(logdir), "--label", "ci"]) == 0
    assert "3 sessions over 3 step(s)" in capsys.readouterr().out
    session = _read_events(logdir / "ci" / "execution" / "test_step.cpu-mlp_train-xla-32")
    median = session.Tensors(SCALAR_PREFIX + "median_s")
    assert [event.step for event in median] == [0, 1, 2]
    values = [float(tensor_util.make_ndarray(event.tensor_proto)) for event in median]
    assert values == pytest.approx([0.002, 0.004, 0.006])  # commit-date order, not argv order
    histograms = session.Tensors(SCALAR_PREFIX + "samples_s")
    assert [event.step for event in histograms] == [0, 1, 2]
    fingerprints = _read_events(logdir / "ci").Tensors("fingerprint")
    assert [event.step for event in fingerprints] == [0, 1, 2]
    text = tensor_util.make_ndarray(fingerprints[0].tensor_proto).item().decode()
    assert "git_commit" in text and "c0" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["no_separator", "--logdir", "{tmp}/tb"], "expected a pytest node id of an existing file"),
        (["missing.py::test_x", "--logdir", "{tmp}/tb"], "expected a pytest node id"),
        (["{tmp}/t.py::test_x", "--logdir", "{tmp}/file/tb"], "cannot write profiles to"),
        (["{tmp}/t.py::test_x", "--logdir", "{tmp}/tb", "--host-tracer-level", "4"],
         "Received: host_tracer_level=4"),
    ],
)  # fmt: skip
def test_profile_command_refuses_bad_input_before_running(tmp_path, capsys, args, message):
    (tmp_path / "file").write_text("x")
    (tmp_path / "t.py").write_text("def test_x():\n    pass\n")
    assert main(["profile", *(arg.format(tmp=tmp_path) for arg in args)]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and message in error


def test_profile_command_names_a_benchmark_pytest_cannot_find(pytester, capsys):
    pytester.makepyfile(test_mod="def test_x():\n    pass\n")
    code = main(["profile", "test_mod.py::test_nope", "--logdir", str(pytester.path / "tb")])
    assert code == 2
    assert "pytest found no such benchmark" in capsys.readouterr().err.splitlines()[-1]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--tf2bench-profile={file}/tb"], "cannot write profiles to"),
        (["--tf2bench-summaries={file}/tb"], "cannot write summaries to"),
        (
            ["--tf2bench-profile={dir}/tb", "--tf2bench-profile-python-tracer=3"],
            "Received: python_tracer_level=3",
        ),
    ],
)
def test_pytest_options_refuse_bad_values_in_one_line(pytester, options, message):
    blocker = pytester.path / "file"
    blocker.write_text("x")
    args = [option.format(file=blocker, dir=pytester.path) for option in options]
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in result.errlines if line.startswith("ERROR:")]
    assert len(errors) == 1 and message in errors[0]
    assert blocker.read_text() == "x"
