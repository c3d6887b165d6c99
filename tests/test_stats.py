"""Statistics on raw samples: quartiles, the noise flag, bootstrap CIs of ratios, Mann-Whitney U."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as scipy_stats

from tf2bench.records.stats import (
    geometric_mean,
    median_bootstrap_draws,
    min_attainable_p,
    ratio_of_medians_ci,
    slower_p_value,
    summarize,
)


def lognormal(seed: int, median: float, size: int, sigma: float = 0.1) -> np.ndarray:
    return np.random.default_rng(seed).lognormal(math.log(median), sigma, size)


def test_summary_matches_numpy_quartiles():
    samples = lognormal(0, 2e-3, 101)
    summary = summarize(samples)
    q1, median, q3 = np.quantile(samples, [0.25, 0.5, 0.75])
    assert (summary.n, summary.median, summary.q1, summary.q3) == (101, median, q1, q3)
    assert summary.iqr == pytest.approx(q3 - q1)


@pytest.mark.parametrize("size", [7, 15, 16, 40])
def test_exact_median_draws_match_brute_force_resampling(size):
    samples = lognormal(1, 1.0, size, sigma=0.3)
    exact = median_bootstrap_draws(samples, 40_000, np.random.default_rng(2))
    rng = np.random.default_rng(3)
    brute = np.median(rng.choice(samples, size=(40_000, size), replace=True), axis=1)
    if size % 2:  # exact: the same discrete distribution, up to Monte Carlo noise
        assert scipy_stats.ks_2samp(exact, brute).statistic < 0.015
    # Even sizes share one uniform between the two middle order statistics (an approximation
    # documented in stats.py): the same centre, a spread at most a few percent wider.
    assert exact.mean() == pytest.approx(brute.mean(), rel=0.005)
    assert 0.98 <= exact.std() / brute.std() <= 1.05


def test_ratio_ci_agrees_with_scipy_bootstrap():
    eager, xla = lognormal(4, 6e-3, 41), lognormal(5, 8e-4, 40, sigma=0.2)
    ours = ratio_of_medians_ci(eager, xla)
    reference = scipy_stats.bootstrap(
        (eager, xla),
        lambda a, b, axis=-1: np.median(a, axis=axis) / np.median(b, axis=axis),
        vectorized=True,
        paired=False,
        n_resamples=20_000,
        method="percentile",
        rng=np.random.default_rng(6),
    ).confidence_interval
    assert ours.ratio == pytest.approx(np.median(eager) / np.median(xla))
    assert ours.low == pytest.approx(reference.low, rel=0.02)
    assert ours.high == pytest.approx(reference.high, rel=0.02)
    assert ours.low < ours.ratio < ours.high


def test_ratio_ci_is_reproducible_and_covers_the_truth():
    # Population medians 3 and 1: the true ratio is 3. A 95% interval must cover it in about
    # 95% of independent experiments (allowing for the small-sample percentile method).
    covered = 0
    for trial in range(200):
        ci = ratio_of_medians_ci(lognormal(trial, 3.0, 30), lognormal(10_000 + trial, 1.0, 30))
        covered += ci.low <= 3.0 <= ci.high
    assert 0.88 <= covered / 200 <= 0.99
    a, b = lognormal(7, 2.0, 50), lognormal(8, 1.0, 50)
    assert ratio_of_medians_ci(a, b) == ratio_of_medians_ci(a, b)


def test_ratio_without_samples_uses_medians_and_has_no_interval():
    ci = ratio_of_medians_ci(None, [1.0, 2.0, 3.0], numerator_median=6.0)
    assert ci.ratio == 3.0 and not ci.has_interval
    assert math.isnan(ratio_of_medians_ci([1.0], [0.0]).ratio)


def test_slower_p_value_is_one_sided():
    base = lognormal(11, 1.0, 60, sigma=0.05)
    slower, same = lognormal(12, 1.2, 60, sigma=0.05), lognormal(13, 1.0, 60, sigma=0.05)
    assert slower_p_value(slower, base) < 1e-6
    assert slower_p_value(base, slower) > 0.99  # faster is not "slower"
    assert slower_p_value(same, base) > 0.01


def test_min_attainable_p_and_geometric_mean():
    assert min_attainable_p(3, 3) == pytest.approx(1 / 20)
    assert min_attainable_p(10, 10) == pytest.approx(1 / 184_756)
    assert min_attainable_p(5000, 4000) == 0.0  # underflows instead of overflowing
    assert geometric_mean([2.0, 8.0, math.nan, -1.0]) == pytest.approx(4.0)
    assert math.isnan(geometric_mean([]))
