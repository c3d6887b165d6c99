"""The report's version axes: environments side by side, ratios, family means, the headline."""

from __future__ import annotations

import re

import pytest
from report_records import FINGERPRINT, RunBuilder, write

from tf2bench.records.schema import load_results
from tf2bench.report.render import Plot, Table
from tf2bench.report.sections import build_document
from tf2bench.report.sections.versions import Env, axis_pairs, versions_section

# (tensorflow, flavor) -> how much slower than TF 2.16 + Keras 2 every benchmark is.
SLOWDOWN = {
    ("2.16.2", "tf_keras"): 1.0,
    ("2.16.2", "keras3"): 2.0,
    ("2.21.0", "tf_keras"): 1.5,
    ("2.21.0", "keras3"): 3.0,
}


def _document(tensorflow: str, flavor: str, seed: int) -> dict:
    run = RunBuilder(seed=seed, rounds=30, spread=0.01)
    factor = SLOWDOWN[(tensorflow, flavor)]
    test = "benchmarks/test_model_styles.py::test_op"
    for batch in (1, 32):
        run.add(
            test,
            {"network": "mlp", "style": "functional", "op": "call", "mode": "eager", "b": batch},
            1e-4 * factor * (1 + batch / 32),
            group=f"model_styles mlp call batch={batch}",
            family="model_styles",
            workload="mlp",
            style="functional",
            mode="eager",
            batch_size=batch,
            params={"op": "call"},
        )
    run.add(
        "benchmarks/test_execution.py::test_step",
        {"workload": "mlp_train", "mode": "session"},
        # Execution differs by TensorFlow only: the Keras axis sees 1x here.
        2e-3 * (1.5 if tensorflow.startswith("2.21") else 1.0),
        group="execution mlp_train",
        family="execution",
        workload="mlp_train",
        mode="session",
        batch_size=32,
    )
    keras = "3.10.0" if flavor == "keras3" else tensorflow
    fingerprint = {**FINGERPRINT, "tensorflow": tensorflow, "keras": keras, "keras_flavor": flavor}
    return run.document(fingerprint)


@pytest.fixture
def matrix_runs(tmp_path):
    runs = []
    for seed, (tensorflow, flavor) in enumerate(SLOWDOWN):
        name = f"tf{tensorflow[:4]}-keras{'3' if flavor == 'keras3' else '2'}.json"
        runs.append(load_results(write(tmp_path / name, _document(tensorflow, flavor, seed))))
    return runs


def test_axes_hold_one_version_fixed():
    envs = [
        Env("2.21.0", "3.15.1", "keras3"),
        Env("2.16.2", "3.10.0", "keras3"),
        Env("2.16.2", "2.16.0", "tf_keras"),
    ]
    assert axis_pairs(envs) == {"TensorFlow": [(0, 1)], "Keras": [(1, 2)]}
    assert axis_pairs(envs[:1]) == {}


def test_one_environment_has_no_version_section(matrix_runs):
    assert versions_section(matrix_runs[:1], ["a"]) is None


def test_ratios_families_figure_and_headline(matrix_runs):
    labels = ["tf2.16-keras2", "tf2.16-keras3", "tf2.21-keras2", "tf2.21-keras3"]
    section, headlines = versions_section(matrix_runs, labels)
    tables = [block for block in section.blocks if isinstance(block, Table)]
    assert [p.name for p in section.blocks if isinstance(p, Plot)] == [
        "versions_tensorflow",
        "versions_keras",
    ]
    family_means = tables[0].rows  # TensorFlow axis, per family
    keras3_styles = family_means[
        family_means["environments"].str.startswith("TF 2.21.0 + Keras 3")
        & (family_means["family"] == "model_styles")
    ]
    assert keras3_styles["geometric mean ratio"].tolist() == ["1.50×"]  # 3.0 / 2.0
    keras_headline = [h for h in headlines if h.startswith("**Keras 3 vs Keras 2**")]
    assert len(keras_headline) == 2  # one per TensorFlow release
    assert "mlp eager functional cpu b1" in keras_headline[0]
    ratio = float(re.search(r"takes ([\d.]+)×", keras_headline[0])[1])
    assert ratio == pytest.approx(2.0, rel=0.03)  # Keras 3 on TF 2.16 is 2x Keras 2
    execution = tables[2].rows  # Keras axis, per family: execution is the same under both
    means = execution[execution["family"] == "execution"]["geometric mean ratio"]
    assert [float(m.rstrip("×")) for m in means] == pytest.approx([1.0, 1.0], rel=0.02)


def test_the_section_leads_the_report_and_its_headline_the_summary(matrix_runs):
    document = build_document(matrix_runs)
    assert document.sections[1].title.startswith("Version axes")
    assert document.summary[0].startswith("**TF 2.21.0 + Keras 2")
