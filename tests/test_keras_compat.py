"""One code path, two Kerases: Keras 3 here, Keras 2 (tf-keras) in a subprocess."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

from tf2bench.errors import UsageError
from tf2bench.harness import environment
from tf2bench.workloads import keras_compat
from tf2bench.workloads.keras_compat import FLAVOR, LEGACY_ENV, keras_label, legacy_requested

ROOT = Path(__file__).resolve().parents[1]
HAS_TF_KERAS = importlib.util.find_spec("tf_keras") is not None
NO_TF_KERAS = "tf-keras is not installed (pip install 'tf2bench[keras2]'): Keras 2 is not tested"


def _keras2_env() -> dict[str, str]:
    return {**os.environ, LEGACY_ENV: "1", "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}


@pytest.mark.parametrize(
    ("value", "legacy"), [("1", True), ("true", True), ("True", True), ("0", False), ("", False)]
)
def test_legacy_keras_is_read_as_tensorflow_reads_it(value, legacy):
    assert legacy_requested({LEGACY_ENV: value}) is legacy
    assert legacy_requested({}) is False


def test_this_process_runs_keras3_and_says_so():
    if legacy_requested():
        pytest.skip(f"{LEGACY_ENV} is set: this process runs Keras 2")
    assert FLAVOR == "keras3" and keras_compat.keras.__version__.startswith("3.")
    fingerprint = environment.collect_tensorflow()
    assert fingerprint["keras_flavor"] == "keras3"
    assert fingerprint["keras"] == keras_compat.keras.__version__
    assert keras_label() == f"keras3 {fingerprint['keras']}"


def test_every_record_names_the_keras_that_ran():
    from tf2bench.pytest_plugin import SETTINGS, pytest_benchmark_update_json

    config = types.SimpleNamespace(stash={SETTINGS: types.SimpleNamespace(threads="all")})
    output = {"benchmarks": [{"extra_info": {"tf2bench": {"params": {"op": "call"}}}}]}
    pytest_benchmark_update_json(config, [], output)
    params = output["benchmarks"][0]["extra_info"]["tf2bench"]["params"]
    assert params["keras"] == keras_label() and params["op"] == "call"


def test_keras2_without_tf_keras_is_one_clear_error(monkeypatch):
    monkeypatch.setenv(LEGACY_ENV, "1")
    monkeypatch.setitem(sys.modules, "tf_keras", None)  # makes `import tf_keras` fail
    with pytest.raises(UsageError, match=r"expected the tf-keras package.*tf2bench\[keras2\]"):
        keras_compat._import_keras()


def test_tf_keras_of_another_tensorflow_minor_is_refused(monkeypatch):
    monkeypatch.setenv(LEGACY_ENV, "1")
    monkeypatch.setitem(sys.modules, "tf_keras", types.SimpleNamespace(__version__="2.15.1"))
    with pytest.raises(UsageError, match=r"tf-keras 2\.15\.1, expected the minor version"):
        keras_compat._import_keras()


KERAS2_BUILD = "tests/test_keras_compat.py::test_keras2_builds_every_style_with_tf_keras"


@pytest.mark.skipif(
    not legacy_requested(), reason="runs in the Keras 2 process of the equivalence test below"
)
def test_keras2_builds_every_style_with_tf_keras():
    # Runs in the process test_keras2_passes_the_equivalence_tests starts with LEGACY_ENV=1.
    import tf_keras

    from tf2bench.workloads.keras_compat import keras
    from tf2bench.workloads.models import KERAS_STYLES, build_model

    assert FLAVOR == environment.collect_tensorflow()["keras_flavor"] == "tf_keras"
    assert keras.__version__.startswith("2.")
    models = [isinstance(build_model("cnn", style), tf_keras.Model) for style in KERAS_STYLES]
    assert models == [True, True, True]


@pytest.mark.slow
@pytest.mark.skipif(not HAS_TF_KERAS, reason=NO_TF_KERAS)
def test_keras2_passes_the_equivalence_tests():
    # The existing tests, unchanged, in a process that imports Keras 2 from the start; one
    # process also builds every style with tf-keras (KERAS2_BUILD), to pay its start once.
    tests = [
        "tests/test_models.py",
        "tests/test_saving_workloads.py",
        "tests/test_session.py",
        "tests/test_training_loops.py::test_custom_loops_take_the_same_steps_as_fit",
        KERAS2_BUILD,
    ]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rp", "-p", "no:cacheprovider", *tests],
        cwd=ROOT,
        env=_keras2_env(),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    assert " passed" in done.stdout and "failed" not in done.stdout
    assert f"PASSED {KERAS2_BUILD}" in done.stdout, done.stdout[-3000:]
