"""Device selection, skip reasons, sync choice, mixed precision and run-level threads.

The GPU logic is tested without a GPU: device listing is injected, and the plugin runs in a
subprocess with CUDA_VISIBLE_DEVICES=-1 so the answers do not depend on this machine.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from tf2bench.errors import UsageError
from tf2bench.harness.devices import (
    Device,
    check_requested,
    skip_reason,
    sync_function,
    visible_kinds,
)
from tf2bench.harness.runner import Harness
from tf2bench.harness.runtime import parse_threads
from tf2bench.workloads.precision import MIXED_TOLERANCE, build_mixed_train_step, dtype_policy

PYTEST_USAGE_ERROR = 4


def _lister(**counts: int):
    return lambda kind: [object()] * counts.get(kind.lower(), 0)


def test_visible_kinds_lists_what_tensorflow_sees_in_a_fixed_order():
    assert visible_kinds(_lister(gpu=2, cpu=1)) == ("cpu", "gpu")
    assert visible_kinds(_lister(cpu=1)) == ("cpu",)


def test_a_missing_gpu_skips_with_a_reason_that_says_what_to_do():
    assert skip_reason("cpu", ("cpu",)) is None
    assert skip_reason("gpu", ("cpu", "gpu")) is None
    reason = skip_reason("gpu", ("cpu",))
    assert "no GPU visible" in reason and "tf2bench[gpu]" in reason


def test_an_explicit_device_that_is_not_present_is_refused_naming_the_visible_ones():
    check_requested(("cpu",), ("cpu",))
    with pytest.raises(UsageError) as error:
        check_requested(("cpu", "gpu"), ("cpu",))
    message = str(error.value)
    assert "\n" not in message
    assert "--tf2bench-device=cpu,gpu" in message and "visible devices: cpu" in message


def test_the_timer_syncs_on_a_gpu_and_not_on_a_cpu():
    import tensorflow as tf

    assert sync_function("cpu") is None
    assert sync_function("gpu") is tf.test.experimental.sync_devices
    bench = SimpleNamespace(enabled=True)
    assert Harness(bench, Device("gpu"), "quick").clock.sync is tf.test.experimental.sync_devices
    assert Harness(bench, Device("cpu"), "quick").clock.sync is None
    assert Device("gpu", 1).tf_name == "/GPU:1"


def test_the_dtype_policy_is_restored_after_the_block():
    from tf2bench.workloads.keras_compat import keras

    before = keras.mixed_precision.global_policy().name
    with dtype_policy("mixed_float16") as policy:
        assert policy.name == "mixed_float16"
        assert keras.mixed_precision.global_policy().name == "mixed_float16"
        with dtype_policy("float32"):
            assert keras.mixed_precision.global_policy().name == "float32"
        assert keras.mixed_precision.global_policy().name == "mixed_float16"
    assert keras.mixed_precision.global_policy().name == before


def test_the_dtype_policy_is_restored_when_the_block_raises():
    from tf2bench.workloads.keras_compat import keras

    before = keras.mixed_precision.global_policy().name
    with pytest.raises(RuntimeError, match="inside"), dtype_policy("mixed_float16"):
        raise RuntimeError("inside")
    assert keras.mixed_precision.global_policy().name == before


def test_an_unknown_dtype_policy_is_refused_and_changes_nothing():
    from tf2bench.workloads.keras_compat import keras

    before = keras.mixed_precision.global_policy().name
    with pytest.raises(UsageError, match="invalid dtype policy.*'float13'"):
        with dtype_policy("float13"):
            pass
    assert keras.mixed_precision.global_policy().name == before


def test_the_mixed_step_computes_in_float16_keeps_float32_weights_and_matches_float32():
    from tf2bench.workloads.keras_compat import keras
    from tf2bench.workloads.steps import StepSpec, build_step

    before = keras.mixed_precision.global_policy().name
    spec = StepSpec("mlp_train", "autograph", batch_size=16)
    step = build_mixed_train_step(spec)
    assert keras.mixed_precision.global_policy().name == before
    dense = step.state["model"].layers[-1]
    assert (dense.compute_dtype, dense.variable_dtype) == ("float16", "float32")
    loss = step()
    expected = build_step(spec)()
    assert loss.dtype.name == "float32"
    assert float(loss) == pytest.approx(float(expected), rel=MIXED_TOLERANCE["rtol"])


@pytest.mark.parametrize(
    ("text", "expected"), [("all", "all"), (" ALL ", "all"), ("1", "1"), ("08", "8")]
)
def test_threads_settings_are_normalised(text, expected):
    assert parse_threads(text) == expected


@pytest.mark.parametrize("text", ["0", "-2", "two", "", "1.5"])
def test_bad_threads_settings_are_refused_in_one_line(text):
    with pytest.raises(UsageError, match=r"expected 'all' or an integer from 1 to \d+ "):
        parse_threads(text)


# ---- the plugin, in a subprocess (its options set process-wide state) ------------------------

BENCH_FILE = """
import pytest

pytestmark = pytest.mark.tf2bench_family("execution")


def test_tiny(harness, benchmark):
    record = harness.record("tiny", items_per_round=4)
    harness.measure(lambda: sum(range(1000)), record)
"""


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("--tf2bench-device=cpu,gpu", "gpu is not present; visible devices: cpu"),
        ("--tf2bench-device=tpu", "expected one of cpu, gpu. Received: 'tpu'"),
        ("--tf2bench-threads=0", "expected 'all' or an integer from 1 to"),
        ("--tf2bench-threads=100000", "per CPU this process may use). Received: '100000'"),
    ],
)
def test_plugin_usage_errors_exit_with_one_line(pytester, no_gpu, option, message):
    pytester.makepyfile(test_nothing="def test_nothing():\n    pass\n")
    result = pytester.runpytest_subprocess(option)
    assert result.ret == PYTEST_USAGE_ERROR
    errors = [line for line in result.errlines if line.startswith("ERROR:")]
    assert len(errors) == 1 and message in errors[0], result.errlines
    assert not any("Traceback" in line for line in result.errlines)


def test_plugin_runs_each_device_skips_the_missing_gpu_and_records_threads(pytester, no_gpu):
    pytester.makepyfile(test_tiny=BENCH_FILE)
    output = pytester.path / "out.json"
    result = pytester.runpytest_subprocess(
        "--tf2bench-threads=1", "--benchmark-only", f"--benchmark-json={output}", "-rs"
    )
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["*test_tiny.py*no GPU visible to TensorFlow*"])
    document = json.loads(output.read_text())
    fingerprint = document["machine_info"]["tf2bench"]
    assert fingerprint["intra_op_threads"] == 1 and fingerprint["threads_setting"] == "1"
    [entry] = document["benchmarks"]
    assert entry["params"] == {"device": "cpu"}
    block = entry["extra_info"]["tf2bench"]
    assert block["params"]["threads"] == "1"
    assert block["metrics"]["peak_host_bytes"] > 0
