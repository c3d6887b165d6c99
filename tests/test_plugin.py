"""The pytest plugin end to end in a subprocess: options, errors, smoke runs, JSON, retraces."""

from __future__ import annotations

import json

import pytest

BENCHMARKS = '''
import pytest
import tensorflow as tf

pytestmark = pytest.mark.tf2bench_family("execution")
CALLS = []


@tf.function
def double(x):
    return x * 2.0


class Step:
    """Feeds a new shape from the sixth call on, i.e. inside the timed rounds."""

    def __init__(self, retrace):
        self.calls = 0
        self.retrace = retrace

    def __call__(self):
        self.calls += 1
        CALLS.append(self.calls)
        rows = 2 if self.retrace and self.calls >= 6 else 1
        return double(tf.ones([rows, 4]))


@pytest.mark.parametrize("retrace", [False, True], ids=["stable", "retraces"])
def test_double(harness, benchmark, retrace):
    record = harness.record("double", mode="autograph", items_per_round=4)
    harness.measure(Step(retrace), record, traced={"double": double})


def test_zz_calls_in_smoke_mode():
    print("CALLS", CALLS)
'''


@pytest.fixture
def suite(pytester):
    pytester.makepyfile(test_bench=BENCHMARKS)
    return pytester


def run(pytester, *args):
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tf2bench-preset=fast"], "expected one of quick, standard, full. Received: 'fast'"),
        (["--tf2bench-family=exec"], "expected one of execution, input_pipeline"),
        (["--tf2bench-device=tpu"], "expected one of cpu, gpu. Received: 'tpu'"),
    ],
)
def test_bad_names_stop_the_run_with_one_line(pytester, args, message):
    result = run(pytester, *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in result.errlines if line.startswith("ERROR:")]
    assert len(errors) == 1 and message in errors[0]
    assert "Traceback" not in result.stderr.str()


def test_environment_variable_is_checked_too(pytester, monkeypatch):
    monkeypatch.setenv("TF2BENCH_PRESET", "huge")
    result = run(pytester)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "Received: 'huge'" in result.stderr.str()


def test_plain_pytest_runs_each_body_once_and_gpu_cases_skip_with_a_reason(suite, no_gpu):
    # One process: the smoke run of the selected family, and the GPU cases' skip reason.
    result = run(suite, "-s", "-rs", "--tf2bench-family=execution")
    result.assert_outcomes(passed=3, skipped=2)
    result.stdout.fnmatch_lines(["*SKIPPED*no GPU visible to TensorFlow*"])
    # first call + one untimed call per benchmark; no warm-up, no rounds, no retrace reached.
    result.stdout.fnmatch_lines(["*CALLS [[]1, 2, 1, 2[]]*"])


def test_measuring_run_writes_records_and_the_retrace_guard_fails(suite, no_gpu):
    result = run(
        suite,
        "--benchmark-only",
        "--benchmark-json=out.json",
        "--tf2bench-device=cpu",
        "--tf2bench-preset=quick",
        "--benchmark-max-time=0.05",
    )
    result.assert_outcomes(passed=1, failed=1, skipped=1)
    result.stdout.fnmatch_lines(
        ["*retrace inside the timed rounds*'double'*(tracing count 1 before, 2 after)*"]
    )
    document = json.loads((suite.path / "out.json").read_text())
    names = [bench["name"] for bench in document["benchmarks"]]
    assert names == ["test_double[cpu-stable]"], "the invalid measurement must not be saved"
    assert document["benchmarks"][0]["options"]["max_time"] == 0.05  # given: the preset's yields
    block = document["benchmarks"][0]["extra_info"]["tf2bench"]
    assert block["preset"] == "quick" and block["tracing_count"] == 1
    assert block["throughput_per_s"] == pytest.approx(
        4 / document["benchmarks"][0]["stats"]["median"]
    )
    fingerprint = document["machine_info"]["tf2bench"]
    for field in (
        "tensorflow",
        "keras",
        "cuda_version",
        "cudnn_version",
        "physical_devices",
        "intra_op_threads",
        "inter_op_threads",
        "onednn_opts",
        "xla_flags",
        "cpu_model",
        "cpu_count",
    ):
        assert field in fingerprint
    assert fingerprint["physical_devices"] == ["CPU:0"]


@pytest.mark.parametrize(("preset", "seconds"), [("standard", 0.5), ("quick", 1.0)])
def test_each_preset_has_its_round_length_unless_one_is_given(suite, no_gpu, preset, seconds):
    result = run(
        suite,
        "--benchmark-only",
        "--benchmark-json=out.json",
        "--tf2bench-device=cpu",
        f"--tf2bench-preset={preset}",
        "-k",
        "stable",
    )
    result.assert_outcomes(passed=1, deselected=2)
    document = json.loads((suite.path / "out.json").read_text())
    assert document["benchmarks"][0]["options"]["max_time"] == seconds


def test_family_selection_deselects_other_families(suite):
    result = run(suite, "--tf2bench-family=input_pipeline", "--tf2bench-device=cpu")
    result.assert_outcomes(deselected=3)
    # --tf2bench-family=execution keeps all three: see the smoke-run test above.


def test_presets_bound_the_execution_matrix(pytester):
    from pathlib import Path

    source = Path(__file__).parents[1] / "benchmarks" / "test_execution.py"
    pytester.makepyfile(test_execution=source.read_text())
    counts = {}
    for preset in ("quick", "standard"):
        result = run(
            pytester, "--collect-only", "-q", f"--tf2bench-preset={preset}", "--tf2bench-device=cpu"
        )
        counts[preset] = sum("::" in line for line in result.outlines)
    assert 0 < counts["quick"] < counts["standard"]
    assert counts["standard"] >= 3 * 4 * 3  # modes x batched workloads x batch sizes 1, 32, 256
