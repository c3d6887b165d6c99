"""Records -> tidy frame -> the report's numbers; partial and unknown families never break it."""

from __future__ import annotations

import json

import numpy as np
import pytest
from report_records import DATA, RunBuilder, add_execution, write

from tf2bench.records.schema import load_results
from tf2bench.report import analysis
from tf2bench.report.frames import identity_key, results_frame, source_labels
from tf2bench.report.render import write_report
from tf2bench.report.sections import build_document


@pytest.fixture(scope="module")
def base_frame():
    return results_frame([load_results(DATA / "sample_base.json")])


def load(tmp_path, run: RunBuilder, name: str = "run.json"):
    return load_results(write(tmp_path / name, run.document()))


def test_source_labels_are_short_and_unique():
    assert source_labels(["a/x.json", "b/y.json"]) == ["x", "y"]
    assert source_labels(["m1/run.json", "m2/run.json"]) == ["m1/run", "m2/run"]
    assert source_labels(["r.json", "r.json"]) == ["r #1", "r #2"]


def test_frame_has_a_row_per_benchmark_with_record_fields(base_frame):
    document = json.loads((DATA / "sample_base.json").read_text())
    assert len(base_frame) == len(document["benchmarks"])
    first = document["benchmarks"][0]
    row = base_frame.iloc[0]
    assert row["name"] == first["name"] and row["median_s"] == first["stats"]["median"]
    assert row["family"] == "execution" and row["param_phase"] == "steady"
    assert list(row["samples"]) == first["stats"]["data"]
    assert row["noisy"] == (first["stats"]["iqr"] / first["stats"]["median"] > 0.10)


def test_speedup_is_eager_median_over_mode_median(base_frame):
    document = json.loads((DATA / "sample_base.json").read_text())
    median = {b["name"]: b["stats"]["median"] for b in document["benchmarks"]}
    speedups = analysis.execution_speedups(base_frame)
    row = speedups[
        (speedups["workload"] == "cnn_train")
        & (speedups["batch_size"] == 32)
        & (speedups["mode"] == "xla")
        & (speedups["device"] == "cpu")
    ].iloc[0]
    expected = (
        median["test_step[cpu-cnn_train-eager-32]"] / median["test_step[cpu-cnn_train-xla-32]"]
    )
    assert row["speedup"] == pytest.approx(expected)
    assert row["ci_low"] < row["speedup"] < row["ci_high"]
    # Every non-eager steady benchmark is paired exactly once: cpu 14 x 2 modes, gpu 6 x 2.
    assert len(speedups) == 40 and set(speedups["mode"]) == {"autograph", "xla"}


def test_parameters_the_report_does_not_know_keep_configurations_apart(tmp_path):
    # Two thread settings of the same step must not be paired across each other.
    run = RunBuilder(seed=3)
    for threads, scale in ((1, 2.0), (2, 1.0)):
        for mode, factor in (("eager", 1.0), ("xla", 0.25)):
            run.add(
                "benchmarks/test_execution.py::test_step",
                {"device": "cpu", "workload": "mlp_train", "mode": mode, "threads": threads},
                scale * factor,
                group="g",
                family="execution",
                workload="mlp_train",
                mode=mode,
            )
    frame = results_frame([load(tmp_path, run)])
    assert identity_key(frame, ("mode",)).nunique() == 2
    speedups = analysis.execution_speedups(frame)
    np.testing.assert_allclose(speedups["speedup"], [4.0, 4.0], rtol=0.05)


def test_pipeline_ratio_to_limit_is_computed_when_not_recorded(tmp_path):
    run = RunBuilder(seed=4)
    for workload, median in (("limit", 0.01), ("pipeline", 0.04)):
        run.add(
            "benchmarks/test_input_pipeline.py::test_x",
            {"workload": workload},
            median,
            group="g",
            family="input_pipeline",
            workload=workload,
            batch_size=32,
            items_per_round=640,
            params={"variant": workload},
        )
    pipes = analysis.pipeline_throughput(results_frame([load(tmp_path, run)]))
    ratio = pipes.set_index("variant").loc["pipeline", "ratio_to_limit"]
    assert ratio == pytest.approx(0.25, rel=0.05)


def partial_runs():
    """Records that leave out what a section would like to have."""

    def only(**record):
        def build(run: RunBuilder) -> None:
            run.add("benchmarks/test_x.py::test_x", {"n": 1}, 1e-3, group="g", **record)
            run.add("benchmarks/test_x.py::test_x", {"n": 2}, 2e-3, group="g", **record)

        return build

    return {
        "eager only": (only(family="execution", workload="w", mode="eager"), "All results"),
        "execution without phase or batch": (
            lambda run: [
                run.add(
                    "benchmarks/t.py::test_t",
                    {"mode": m},
                    t,
                    group="g",
                    family="execution",
                    workload="w",
                    mode=m,
                )
                for m, t in (("eager", 2e-3), ("autograph", 1e-3))
            ],
            "Execution modes",
        ),
        "pipeline without limit or metrics": (
            only(family="input_pipeline", workload="pipeline", params={"variant": "v"}),
            "tf.data input pipelines",
        ),
        "consumer without fraction": (
            only(family="input_pipeline", workload="consumer"),
            "tf.data input pipelines",
        ),
        "styles without batch sizes": (
            only(family="model_styles", workload="mlp", style="sequential", params={"op": "build"}),
            "Model-building styles",
        ),
        "training without params": (only(family="training", workload="mlp"), "Training loops"),
        "saving without size": (only(family="saving", workload="mlp"), "Saving and reloading"),
        "distribute without replicas": (
            only(family="distribute", workload="mlp", params={"strategy": "mirrored"}),
            "Devices and scale",
        ),
        "an unknown family": (only(family="quantum", workload="qubit"), "Other results"),
        "gpu only": (only(family="execution", workload="w", mode="xla", device="gpu"), "Noisy"),
    }


@pytest.mark.parametrize("case", list(partial_runs()))
def test_partial_and_unknown_records_render(tmp_path, case):
    build, expected_section = partial_runs()[case]
    run = RunBuilder(seed=5, rounds=8)
    build(run)
    document = build_document([load(tmp_path, run)])
    titles = [section.title for section in document.sections]
    assert any(title.startswith(expected_section) for title in titles), titles
    assert titles[0] == "Inputs" and titles[-1] == "All results"
    out = write_report(document, tmp_path / "report")
    assert (out / "report.md").stat().st_size > 0
    assert len(list((out / "figures").glob("*.svg"))) == len(document.plots())


def test_records_without_raw_samples_render_without_intervals(tmp_path):
    run = RunBuilder(seed=6)
    add_execution(run, batches=(32,), workloads=("mlp_train",))
    document = run.document()
    for entry in document["benchmarks"]:
        entry["stats"].pop("data")
    results = load_results(write(tmp_path / "run.json", document))
    report = build_document([results])
    titles = [section.title for section in report.sections]
    assert "Latency distributions" not in titles
    speedups = analysis.execution_speedups(results_frame([results]))
    assert speedups["ci_low"].isna().all() and speedups["speedup"].notna().all()
    write_report(report, tmp_path / "report")


def test_configurations_without_a_column_get_their_own_rows(tmp_path):
    # Mixed precision is a param the report has no column for: it must neither crash the wide
    # speedup table nor be merged with the float32 rows.
    run = RunBuilder(seed=10)
    for precision, scale in ((None, 1.0), ("mixed_float16", 0.5)):
        for mode, factor in (("eager", 1.0), ("xla", 0.2)):
            run.add(
                "benchmarks/test_execution.py::test_step",
                {"device": "cpu", "workload": "mlp_train", "mode": mode, "precision": precision},
                scale * factor * 1e-2,
                group="g",
                family="execution",
                workload="mlp_train",
                mode=mode,
                batch_size=32,
                params={"phase": "steady", **({"precision": precision} if precision else {})},
            )
    results = load(tmp_path, run)
    speedups = analysis.execution_speedups(results_frame([results]))
    assert list(speedups["workload"]) == ["mlp_train", "mlp_train [precision=mixed_float16]"]
    np.testing.assert_allclose(speedups["speedup"], [5.0, 5.0], rtol=0.05)
    document = build_document([results])
    write_report(document, tmp_path / "report")
    assert (
        "| cpu | mlp_train [precision=mixed_float16] | 32 |"
        in (tmp_path / "report" / "report.md").read_text()
    )


def test_scaling_efficiency_is_computed_from_the_records(tmp_path):
    run = RunBuilder(seed=3, rounds=9, spread=0.0)
    cases = (("mirrored", 1, 0.01), ("mirrored", 2, 0.008), ("multi_worker", 2, 0.006))
    for strategy, replicas, median_s in (*cases, ("none", 1, 0.009)):
        run.add(
            "benchmarks/test_distribute.py::test_x",
            {"strategy": strategy, "replicas": replicas},
            median_s,
            group="distribute mlp",
            family="distribute",
            workload="mlp",
            device="cpu",
            batch_size=64,
            items_per_round=640,
            item_unit="examples",
            metrics={"replicas": replicas},
            params={"strategy": strategy, "steps_per_round": 10},
        )
    scaling = analysis.distribute_scaling(results_frame([load(tmp_path, run)]))
    efficiency = dict(
        zip(
            scaling["strategy"] + scaling["replicas"].astype(str),
            scaling["scaling_efficiency"],
            strict=True,
        )
    )
    assert efficiency["mirrored1.0"] == pytest.approx(1.0)
    assert efficiency["mirrored2.0"] == pytest.approx(0.01 / (2 * 0.008))
    assert efficiency["multi_worker2.0"] == pytest.approx(0.01 / (2 * 0.006))
    assert np.isnan(efficiency["none1.0"]), "no strategy has no scaling efficiency"


def test_model_styles_headline_calls_an_overhead_clear_only_when_its_interval_excludes_1x():
    import pandas as pd

    from tf2bench.report.sections.styles import _headlines

    def ratios(low: float) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "style": ["subclassed", "sequential"],
                "ratio": [1.9, 1.1],
                "ci_low": [1e-8, low],
                "ci_high": [52.9, 1.2],
                "op": ["first_call", "call"],
                "network": ["mlp", "cnn"],
                "batch_size": [32.0, 32.0],
            }
        )

    noise_only = _headlines(ratios(0.9))[0]
    assert "No clear overhead; largest ratio: subclassed 1.9" in noise_only
    assert "Largest clear overhead" not in noise_only
    clear = _headlines(ratios(1.05))[0]
    assert "Largest clear overhead: sequential 1.1" in clear
