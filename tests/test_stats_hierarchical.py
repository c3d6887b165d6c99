"""The hierarchical interval, the disagreement flag and the noise flag on constructed data."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tf2bench.records.stats import (
    DISAGREE_EFFECT_FLOOR,
    NOISE_WIDTH_THRESHOLD,
    MedianCI,
    hierarchical_draws,
    median_bootstrap_draws,
    median_ci,
    processes_disagree,
    ratio_ci,
)

TRUE_MEDIAN = 1e-3


def simulated_run(rng, processes=5, samples=60, between=0.05, within=0.03):
    """Processes whose levels spread around TRUE_MEDIAN (symmetric, so it is their median too)."""
    levels = TRUE_MEDIAN * (1 + between * rng.standard_normal(processes))
    return [level + TRUE_MEDIAN * within * rng.standard_normal(samples) for level in levels]


def one_level_interval(processes, rng):
    draws = median_bootstrap_draws(np.concatenate(processes), 2000, rng)
    return np.quantile(draws, [0.025, 0.975])


def test_hierarchical_interval_covers_the_true_median_and_one_level_does_not():
    rng = np.random.default_rng(1)
    repetitions = 300
    hierarchical = one_level = 0
    for repetition in range(repetitions):
        run = simulated_run(rng)
        ci = median_ci(run, resamples=2000, seed=repetition)
        hierarchical += ci.low <= TRUE_MEDIAN <= ci.high
        low, high = one_level_interval(run, rng)
        one_level += low <= TRUE_MEDIAN <= high
    assert 0.91 <= hierarchical / repetitions <= 0.99
    assert one_level / repetitions < 0.6


def test_interval_narrows_without_between_process_spread():
    rng = np.random.default_rng(2)
    spread = median_ci(simulated_run(rng, between=0.05))
    tight = median_ci(simulated_run(rng, between=0.0))
    assert tight.relative_width < spread.relative_width / 3


def test_one_process_falls_back_to_the_one_level_interval():
    rng = np.random.default_rng(3)
    samples = TRUE_MEDIAN * (1 + 0.02 * rng.standard_normal(101))
    ci = median_ci([samples])
    assert ci.one_process and ci.processes == 1
    assert ci.median == pytest.approx(np.median(samples))
    draws = median_bootstrap_draws(samples, 20_000, np.random.default_rng(0))
    low, high = np.quantile(draws, [0.025, 0.975])
    assert ci.low == pytest.approx(low, rel=2e-3) and ci.high == pytest.approx(high, rel=2e-3)


def test_no_samples_gives_nan():
    ci = median_ci([[], []])
    assert ci.processes == 0 and math.isnan(ci.median) and not ci.noisy


def test_hierarchical_draws_spread_like_the_process_medians():
    # Processes without inner noise: the draws are means of resampled process levels.
    processes = [np.full(20, level) for level in (1.0, 2.0, 3.0, 4.0)]
    draws = hierarchical_draws(processes, 20_000, np.random.default_rng(4))
    assert draws.mean() == pytest.approx(2.5, abs=0.02)
    assert draws.std() == pytest.approx(np.std([1.0, 2.0, 3.0, 4.0]) / 2, rel=0.05)


def test_noise_flag_follows_the_interval_width():
    assert MedianCI(1.0, 0.94, 1.06, 5).noisy == (0.12 > NOISE_WIDTH_THRESHOLD)
    assert not MedianCI(1.0, 0.98, 1.02, 5).noisy


def test_processes_disagree_only_beyond_the_effect_floor():
    rng = np.random.default_rng(5)
    base = 1 + 0.01 * rng.standard_normal((4, 500))
    tiny = base + np.array([[0.0], [0.01], [0.0], [0.01]])  # significant yet 1%
    large = base + np.array([[0.0], [0.2], [0.0], [0.0]])
    apart_by_chance = [np.array([1.0, 1.5, 0.6]), np.array([1.1, 0.5, 1.6])]
    assert not processes_disagree(tiny).flagged
    assert processes_disagree(large).p_value < 1e-6
    assert processes_disagree(large).flagged
    assert processes_disagree(large).spread > DISAGREE_EFFECT_FLOOR
    assert processes_disagree(apart_by_chance).spread > DISAGREE_EFFECT_FLOOR
    assert not processes_disagree(apart_by_chance).flagged
    assert not processes_disagree(base).flagged
    assert not processes_disagree([base[0]]).flagged
    assert not processes_disagree([np.ones(5), np.ones(5)]).flagged


def test_ratio_interval_covers_the_true_ratio():
    rng = np.random.default_rng(6)
    hits = 0
    for repetition in range(200):
        slow = [p * 1.5 for p in simulated_run(rng)]
        ci = ratio_ci(slow, simulated_run(rng), resamples=2000, seed=repetition)
        hits += ci.low <= 1.5 <= ci.high
    assert 0.9 <= hits / 200 <= 1.0


def test_ratio_with_one_process_uses_pooled_samples():
    rng = np.random.default_rng(7)
    top, bottom = simulated_run(rng, processes=1), simulated_run(rng, processes=3)
    ci = ratio_ci(top, bottom)
    assert ci.ratio == pytest.approx(np.median(top[0]) / np.median(np.concatenate(bottom)))
    assert ci.has_interval
