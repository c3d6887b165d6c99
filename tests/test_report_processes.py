"""The report's statistics: intervals over processes, disagreement named, the tf.data bound."""

from __future__ import annotations

import numpy as np
import pytest
from report_records import RunBuilder, add_execution, add_input_pipeline, stats_of, write

from tf2bench.cli import main
from tf2bench.records.schema import BLOCK_KEY, load_results
from tf2bench.report.analysis import execution_speedups
from tf2bench.report.frames import results_frame
from tf2bench.report.sections.pipelines import pipeline_section

SLOW_PROCESS = "test_step[cpu-mlp_train-eager-32]"


def three_process_document(rounds: int = 60) -> dict:
    """Every benchmark in 3 processes; one benchmark's second process is 30% slower."""
    run = RunBuilder(seed=11, rounds=rounds, spread=0.02)
    add_execution(run, batches=(32,), workloads=("mlp_train",))
    document = run.document()
    for entry in document["benchmarks"]:
        data = np.array(entry["stats"]["data"])
        parts = [part.copy() for part in np.array_split(data, 3)]
        if entry["name"] == SLOW_PROCESS:
            parts[1] *= 1.3
        entry["extra_info"][BLOCK_KEY]["processes"] = [
            {"index": i, "data": part.tolist(), "first_call_s": None, "warmup_calls": 1}
            for i, part in enumerate(parts)
        ]
        entry["stats"] = stats_of(np.concatenate(parts).tolist())
    return document


@pytest.mark.slow
def test_report_names_the_benchmark_whose_processes_disagree(tmp_path):
    path = write(tmp_path / "run.json", three_process_document())
    out = tmp_path / "report"
    assert main(["report", str(path), "--out", str(out)]) == 0
    markdown = (out / "report.md").read_text()
    disagree = markdown[markdown.index("In 1 the processes disagree") :].split("\n", 1)[0]
    assert SLOW_PROCESS in disagree and "test_step[cpu-mlp_train-xla-32]" not in disagree
    assert "ran in one process" not in markdown


def test_frame_intervals_cover_the_processes(tmp_path):
    path = write(tmp_path / "run.json", three_process_document())
    frame = results_frame([load_results(path)]).set_index("name")
    row = frame.loc[SLOW_PROCESS]
    assert row["processes"] == 3 and not row["one_process"] and row["disagree"]
    # The slow process widens the interval well past the within-process spread.
    assert row["ci_high_s"] > row["median_s"] * 1.05 and row["noisy"]
    quiet = frame.loc["test_step[cpu-mlp_train-xla-32]"]
    assert not quiet["disagree"] and quiet["ci_low_s"] < quiet["median_s"] < quiet["ci_high_s"]
    speedups = execution_speedups(frame.reset_index())
    eager_pair = speedups[speedups["mode"] == "xla"].iloc[0]
    assert eager_pair["ci_low"] < eager_pair["speedup"] < eager_pair["ci_high"]


def test_a_pipeline_without_map_or_shuffle_is_never_the_best_variant(tmp_path):
    run = RunBuilder(seed=12)
    add_input_pipeline(run, batches=(256,))
    document = run.document()
    for entry in document["benchmarks"]:
        params = entry["extra_info"][BLOCK_KEY]["params"]
        if params.get("variant") == "plain":  # map "none": it must not win however fast it is
            entry["stats"] = stats_of([value / 100 for value in entry["stats"]["data"]])
            entry["extra_info"][BLOCK_KEY]["throughput_per_s"] *= 100
    frame = results_frame([load_results(write(tmp_path / "run.json", document))])
    _, headlines = pipeline_section(frame, multi=False)
    (headline,) = [line for line in headlines if line.startswith("**tf.data fastest**")]
    assert "`plain`" not in headline and "shuffle, `cache` at" in headline
    assert "of the memory-copy bound" in headline
