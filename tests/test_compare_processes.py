"""`compare` on runs with several processes: FDR control, power, package differences."""

from __future__ import annotations

import numpy as np
import pytest

from tf2bench.records.moderated import fit_prior, moderated_paired_t, moderated_t
from tf2bench.records.schema import BLOCK_KEY, BenchRecord, parse_results
from tf2bench.report import compare as compare_module
from tf2bench.report.compare import PAIRED_TEST, PROCESS_TEST, compare_runs
from tf2bench.report.comparison_text import format_comparison


def run_document(
    medians, rng, *, processes=5, samples=30, between=0.03, within=0.05, packages=None
):
    """A v2 results document: per benchmark `processes` processes around the given median."""
    benchmarks = []
    for index, median in enumerate(medians):
        levels = median * np.exp(between * rng.standard_normal(processes))
        data = [level * np.exp(within * rng.standard_normal(samples)) for level in levels]
        block = BenchRecord(family="execution", workload=f"w{index}").to_extra_info()
        block["processes"] = [
            {"index": i, "data": d.tolist(), "first_call_s": None, "warmup_calls": 1}
            for i, d in enumerate(data)
        ]
        pooled = np.concatenate(data)
        benchmarks.append(
            {
                "name": f"test_w[{index}]",
                "fullname": f"b.py::test_w[{index}]",
                "stats": {"median": float(np.median(pooled)), "data": pooled.tolist()},
                "extra_info": {BLOCK_KEY: block},
            }
        )
    fingerprint = {"tensorflow": "2.21.0", "packages": packages or {}}
    return {"machine_info": {BLOCK_KEY: fingerprint}, "benchmarks": benchmarks}


def runs(base_medians, head_medians, seed, **options):
    rng = np.random.default_rng(seed)
    base = parse_results(run_document(base_medians, rng, **options), where="base.json")
    head = parse_results(run_document(head_medians, rng, **options), where="head.json")
    return base, head


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1])
def test_fdr_control_with_500_nulls_and_10_real_changes(seed):
    medians = np.geomspace(1e-4, 1e-1, 510)
    changed = np.zeros(510, dtype=bool)
    changed[::51] = True  # 10 benchmarks 15% slower, spread over the range
    base, head = runs(medians, np.where(changed, medians * 1.15, medians), seed)
    comparison = compare_runs(base, head)
    flagged = np.array([c.status == "REGRESSION" for c in comparison.changes])
    assert all(c.test == PROCESS_TEST for c in comparison.changes)
    assert flagged[changed].all()
    assert flagged[~changed].sum() <= 1
    assert comparison.exit_code == 1


def test_a_run_against_a_rerun_of_itself_flags_nothing():
    medians = np.geomspace(1e-4, 1e-1, 300)
    base, head = runs(medians, medians, seed=3)
    comparison = compare_runs(base, head)
    assert not any(c.matters for c in comparison.changes)
    assert comparison.exit_code == 0


def test_within_process_tests_flag_between_process_noise_and_process_tests_do_not():
    # Strong spread between processes, little inside one: the old raw-sample test sees a
    # "change" in every benchmark; the per-process test sees none.
    medians = np.full(50, 1e-3)
    base, head = runs(medians, medians, seed=4, between=0.08, within=0.01, samples=200)
    comparison = compare_runs(base, head, threshold=0.05)
    assert not comparison.regressions
    one = [
        parse_results(
            run_document(
                medians,
                np.random.default_rng(s),
                processes=1,
                between=0.08,
                within=0.01,
                samples=200,
            ),
            where=f"{s}",
        )
        for s in (5, 6)
    ]
    assert compare_runs(*one, threshold=0.05).regressions


def test_moderation_pools_variance_and_keeps_nulls_uniform():
    rng = np.random.default_rng(7)
    base = [rng.normal(0, 0.03, 3) for _ in range(2000)]
    head = [rng.normal(0, 0.03, 3) for _ in range(2000)]
    p_larger, p_smaller, d0 = moderated_t(base, head)
    assert d0 > 50  # one shared variance: a strong prior
    assert 0.035 < np.mean(p_larger < 0.05) < 0.07
    np.testing.assert_allclose(p_larger + p_smaller, 1.0)


def test_prior_is_weak_when_variances_differ_and_absent_with_few_benchmarks():
    rng = np.random.default_rng(8)
    scales = np.exp(rng.uniform(-4, 4, 400))
    variances = scales * rng.chisquare(4, 400) / 4
    d0, _ = fit_prior(variances, np.full(400, 4.0))
    assert d0 < 3
    assert fit_prior(np.ones(3), np.full(3, 4.0)) == (0.0, pytest.approx(float("nan"), nan_ok=True))


def test_package_differences_are_listed():
    medians = [1e-3, 2e-3]
    rng = np.random.default_rng(9)
    base = parse_results(
        run_document(medians, rng, packages={"numpy": "2.1.0", "tensorflow": "2.21.0", "old": "1"}),
        where="base.json",
    )
    head = parse_results(
        run_document(medians, rng, packages={"numpy": "2.2.0", "tensorflow": "2.21.0", "new": "3"}),
        where="head.json",
    )
    comparison = compare_runs(base, head)
    assert comparison.packages == ("new: absent -> 3", "numpy: 2.1.0 -> 2.2.0", "old: 1 -> absent")
    assert "installed packages differ (3): new: absent -> 3; numpy" in format_comparison(comparison)


def paired_runs(changes, seed, *, pairs=4, drift=0.20, within_pair=0.015, token="t1"):
    """Base and head of a paired `ab` run: each pair shares a drift of the machine.

    Per benchmark and pair the machine is `drift` (log sd) faster or slower for both sides at
    once, as one vCPU here is from second to second; the sides differ by `within_pair` noise
    and the true change.
    """
    rng = np.random.default_rng(seed)
    medians = np.geomspace(1e-4, 1e-1, len(changes))
    shared = drift * rng.standard_normal((len(changes), pairs))
    sides = {}
    for side, factor in (("base", np.ones(len(changes))), ("head", np.asarray(changes))):
        levels = medians[:, None] * factor[:, None] * np.exp(shared)
        levels = levels * np.exp(within_pair * rng.standard_normal(levels.shape))
        document = run_document(medians, rng, processes=pairs, samples=20, between=0.0)
        for bench, row in zip(document["benchmarks"], levels, strict=True):
            processes = bench["extra_info"][BLOCK_KEY]["processes"]
            for process, level in zip(processes, row, strict=True):
                noise = np.exp(0.02 * rng.standard_normal(20))
                process["data"] = (level * noise).tolist()
                process["index"] += 1
        if token:
            document["machine_info"][BLOCK_KEY]["pairing"] = token
        sides[side] = parse_results(document, where=f"{side}.json")
    return sides["base"], sides["head"]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pairs_cancel_the_machines_drift_and_find_a_15_percent_change(seed):
    changes = np.ones(100)
    changes[::20] = 1.15  # 5 benchmarks 15% slower
    base, head = paired_runs(changes, seed)
    comparison = compare_runs(base, head)
    assert all(c.test == PAIRED_TEST for c in comparison.changes)
    flagged = np.array([c.status == "REGRESSION" for c in comparison.changes])
    assert flagged[changes > 1].all()
    assert flagged[changes == 1].sum() <= 1
    # The same numbers without the pairing: the drift swamps a 15% change.
    base, head = paired_runs(changes, seed, token=None)
    unpaired = compare_runs(base, head)
    assert all(c.test == PROCESS_TEST for c in unpaired.changes)
    assert sum(c.status == "REGRESSION" for c in unpaired.changes) < 5


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_an_a_a_run_in_pairs_flags_nothing(seed):
    base, head = paired_runs(np.ones(200), seed)
    comparison = compare_runs(base, head)
    assert not comparison.regressions
    assert sum(c.matters for c in comparison.changes) <= 1
    assert comparison.exit_code == 0


def test_files_of_different_ab_runs_are_not_paired():
    base, _ = paired_runs(np.ones(20), 7, token="run-1")
    _, head = paired_runs(np.ones(20), 8, token="run-2")
    assert {c.test for c in compare_runs(base, head).changes} == {PROCESS_TEST}


def paired_runs_with_cold_starts(seed, *, pairs=2, steady=100, cold=10):
    """Paired base and head without any change: `steady` benchmarks of 200 rounds (2% noise)
    and `cold` ones timed in 3 builds (15% noise), as the quick preset's cold starts are; the
    sides of a pair differ by 1% (log sd), as identical code on one CPU does here."""
    rng = np.random.default_rng(seed)
    medians = np.geomspace(1e-4, 1e-1, steady + cold)
    shared = 0.2 * rng.standard_normal((len(medians), pairs))
    sides = {}
    for side in ("base", "head"):
        document = run_document(medians, rng, processes=pairs, samples=3, between=0.0)
        for index, bench in enumerate(document["benchmarks"]):
            rounds, noise = (3, 0.15) if index >= steady else (200, 0.02)
            for pair, process in enumerate(bench["extra_info"][BLOCK_KEY]["processes"]):
                level = medians[index] * np.exp(shared[index, pair] + 0.01 * rng.standard_normal())
                process["data"] = (level * np.exp(noise * rng.standard_normal(rounds))).tolist()
                process["index"] += 1
        document["machine_info"][BLOCK_KEY]["pairing"] = "t"
        sides[side] = parse_results(document, where=f"{side}.json")
    return sides["base"], sides["head"]


def test_few_round_benchmarks_are_judged_by_their_own_sampling_error(monkeypatch):
    # Seeds where the shared variance alone, fitted mostly to the steady benchmarks, flags cold
    # starts that did not change (seeds 0-29: 11 false flags without the floor, none with it).
    seeds = [1, 4, 6]
    runs_by_seed = [paired_runs_with_cold_starts(seed) for seed in seeds]
    assert sum(matters(compare_runs(base, head)) for base, head in runs_by_seed) == 0

    def without_floor(differences, floors=None):
        return moderated_paired_t(differences)

    monkeypatch.setattr(compare_module, "moderated_paired_t", without_floor)
    assert sum(matters(compare_runs(base, head)) for base, head in runs_by_seed) >= 3


def matters(comparison) -> int:
    return sum(change.matters for change in comparison.changes)
