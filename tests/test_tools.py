"""tools/: interval coverage of a rerun, and the slowdown injected to find the detectable change."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
from report_records import DATA, doctored, write

from tf2bench.records.schema import BLOCK_KEY


def _tool(name: str):
    spec = importlib.util.spec_from_file_location(name, DATA.parents[1] / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


interval_coverage = _tool("interval_coverage")
detectable_change = _tool("detectable_change")

STEP = "test_step[cpu-mlp_train-xla-32]"


def test_a_run_covers_itself_and_misses_a_shifted_benchmark(tmp_path):
    base = json.loads((DATA / "sample_base.json").read_text())
    executions = sum(
        b["extra_info"][BLOCK_KEY]["family"] == "execution" for b in base["benchmarks"]
    )
    same = write(tmp_path / "same.json", base)
    shifted = write(tmp_path / "shifted.json", doctored(base, STEP, 1.5))

    assert interval_coverage.coverage(same, same, "execution") == (executions, [])
    compared, misses = interval_coverage.coverage(same, shifted, "execution")
    assert compared == executions
    assert [name for name, _ in misses] == [STEP]
    assert abs(misses[0][1] - 1.5) < 0.05


def test_no_common_benchmark_is_exit_2(tmp_path, capsys):
    base = write(tmp_path / "base.json", json.loads((DATA / "sample_base.json").read_text()))
    assert interval_coverage.main([str(base), str(base), "--family", "no_such_family"]) == 2
    assert "no no_such_family benchmark" in capsys.readouterr().err


def test_slowed_multiplies_every_sample_of_one_family_only():
    base = json.loads((DATA / "sample_base.json").read_text())
    result = detectable_change.slowed(base, "training", 1.25)
    for before, after in zip(base["benchmarks"], result["benchmarks"], strict=True):
        factor = 1.25 if before["extra_info"][BLOCK_KEY]["family"] == "training" else 1.0
        assert after["stats"]["data"] == [v * factor for v in before["stats"]["data"]]
        assert after["stats"]["median"] == before["stats"]["median"] * factor


cpu_drift = _tool("cpu_drift")


def test_cpu_drift_reports_spread_autocorrelation_and_an_identical_pairs_ratio():
    cpus = sorted(__import__("os").sched_getaffinity(0))[:2]
    result = cpu_drift.drift(cpus, seconds=0.2, window_s=0.005)
    assert set(result["sd"]) == set(cpus) and all(sd >= 0 for sd in result["sd"].values())
    assert all(-1 <= v <= 1 for lags in result["autocorrelation"].values() for v in lags.values())
    spread, ratios = cpu_drift.ratio_spread((cpus[-1], cpus[-1]), 2, 0.05, 0.005)
    assert len(ratios) == 2 and all(r > 0 for r in ratios) and spread >= 0


def test_the_two_stage_estimate_flags_the_one_slowed_benchmark_and_nothing_else():
    from test_compare_processes import paired_runs

    first = paired_runs(np.ones(40), seed=1, pairs=2)
    a_runs, b_runs = (
        paired_runs(np.ones(40), seed=2, pairs=2),
        paired_runs(np.ones(40), seed=3, pairs=2),
    )
    second = tuple(detectable_change.pooled(a, b) for a, b in zip(a_runs, b_runs, strict=True))
    assert second[0].benchmarks[0].process_indexes == (1, 2, 3, 4)
    name = first[0].benchmarks[5].name
    settings = {"candidates": 8, "alpha": 0.01, "threshold": 0.1}
    assert detectable_change.two_stage(first, second, name, 1.5, **settings) == (True, 0)
    assert detectable_change.two_stage(first, second, name, 1.0, **settings) == (False, 0)
    slowed = detectable_change.slow_one(first[1], name, 2.0)
    assert slowed.benchmarks[5].median_s == 2 * first[1].benchmarks[5].median_s
    assert slowed.benchmarks[4] is first[1].benchmarks[4]
