"""Statistics on raw timing samples: median, IQR, noise flag, bootstrap CIs of ratios, significance.

No TensorFlow. Every statistic is derived from the raw samples a run kept (`stats.data`).

The bootstrap of one median and its exact law: `records/bootstrap.py`.

Between processes. A run may measure a benchmark in several fresh processes; each process has
its own level (what ran before it, memory layout, tracing), so samples of one process are not
independent draws of the benchmark. `median_ci` is a hierarchical bootstrap: resample the
processes with replacement, then each chosen process's samples (through the exact median
distribution above), and take the mean of the per-process medians. A percentile bootstrap over
few clusters is too narrow (its variance lacks the (P - 1) / P and Student-t corrections), so the
deviations from the estimate are widened by sqrt(P / (P - 1)) * t(P - 1) / z, Hesterberg's
"expanded percentile" interval; `tests/test_stats_hierarchical.py` checks its coverage. With one
process the interval is the one-level bootstrap of that process and covers that process only.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special as scipy_special

from tf2bench.records.bootstrap import (
    BOOTSTRAP_RESAMPLES,
    BOOTSTRAP_SEED,
    CONFIDENCE,
    log_median_variance,
    median_bootstrap_draws,
)

__all__ = [
    "BOOTSTRAP_RESAMPLES",
    "DISAGREE_ALPHA",
    "DISAGREE_EFFECT_FLOOR",
    "NOISE_WIDTH_THRESHOLD",
    "HIERARCHICAL_RESAMPLES",
    "Disagreement",
    "MedianCI",
    "hierarchical_draws",
    "median_ci",
    "process_medians",
    "processes_disagree",
    "ratio_ci",
    "BOOTSTRAP_SEED",
    "CONFIDENCE",
    "RatioCI",
    "Summary",
    "geometric_mean",
    "iqr_ratio",
    "log_median_variance",
    "median_bootstrap_draws",
    "min_attainable_p",
    "ratio_of_medians_ci",
    "slower_p_value",
    "summarize",
]

# Hierarchical bootstrap draws (B x processes medians each): enough for 2.5%/97.5% quantiles.
HIERARCHICAL_RESAMPLES = 2_000
# A result whose 95% interval is wider than this fraction of its median is flagged noisy: it
# cannot resolve a change of the size `tf2bench compare` calls a regression by default.
NOISE_WIDTH_THRESHOLD = 0.10
# Processes disagree when a Kruskal-Wallis test of their samples gives p below DISAGREE_ALPHA and
# their medians spread (max - min) by more than DISAGREE_EFFECT_FLOOR of the overall median; the
# floor keeps the test, which finds any difference with thousands of samples, to ones that matter.
DISAGREE_ALPHA = 0.01
DISAGREE_EFFECT_FLOOR = 0.05


@dataclass(frozen=True)
class Summary:
    """Median and spread of raw samples, in the samples' unit (seconds for tf2bench)."""

    n: int
    median: float
    q1: float
    q3: float

    @property
    def iqr(self) -> float:
        return self.q3 - self.q1


@dataclass(frozen=True)
class RatioCI:
    """A ratio of medians with its bootstrap percentile interval (low, high); NaN when unknown."""

    ratio: float
    low: float
    high: float
    confidence: float = CONFIDENCE

    @property
    def has_interval(self) -> bool:
        return math.isfinite(self.low) and math.isfinite(self.high)


def summarize(samples: Sequence[float]) -> Summary:
    """Median and quartiles of `samples` (linear interpolation, as NumPy's default)."""
    values = np.asarray(samples, dtype=float)
    if values.size == 0:
        raise ValueError("summarize() needs at least one sample, received none")
    q1, median, q3 = np.quantile(values, [0.25, 0.5, 0.75])
    return Summary(n=int(values.size), median=float(median), q1=float(q1), q3=float(q3))


def iqr_ratio(median: float, iqr: float) -> float:
    """IQR over median (dimensionless); NaN when the median is not positive or IQR unknown."""
    if not (median > 0) or not math.isfinite(iqr):
        return math.nan
    return iqr / median


def ratio_of_medians_ci(
    numerator: Sequence[float] | None,
    denominator: Sequence[float] | None,
    *,
    numerator_median: float | None = None,
    denominator_median: float | None = None,
    confidence: float = CONFIDENCE,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> RatioCI:
    """median(numerator) / median(denominator) with a bootstrap percentile interval.

    For a speedup of B over A pass A's times as numerator and B's as denominator. Without raw
    samples on either side the ratio comes from the given medians and the interval is NaN.

    Returns:
        RatioCI (dimensionless).
    """
    if not _has_samples(numerator) or not _has_samples(denominator):
        top, bottom = numerator_median, denominator_median
        if _has_samples(numerator):
            top = float(np.median(numerator))
        if _has_samples(denominator):
            bottom = float(np.median(denominator))
        return RatioCI(_safe_ratio(top, bottom), math.nan, math.nan, confidence)
    ratio = _safe_ratio(float(np.median(numerator)), float(np.median(denominator)))
    rng = np.random.default_rng(seed)
    bottom = median_bootstrap_draws(denominator, resamples, rng)
    top = median_bootstrap_draws(numerator, resamples, rng)
    if not math.isfinite(ratio) or np.any(bottom <= 0):
        return RatioCI(ratio, math.nan, math.nan, confidence)
    tail = (1 - confidence) / 2
    low, high = np.quantile(top / bottom, [tail, 1 - tail])
    return RatioCI(ratio, float(low), float(high), confidence)


def slower_p_value(head: Sequence[float], base: Sequence[float]) -> float:
    """One-sided Mann-Whitney U p-value for "head's times are larger (slower) than base's".

    Uses `scipy.stats.mannwhitneyu(head, base, alternative="greater")` (exact for small samples
    without ties, normal approximation otherwise).
    """
    return float(_scipy_stats().mannwhitneyu(head, base, alternative="greater").pvalue)


def min_attainable_p(n_head: int, n_base: int) -> float:
    """The smallest one-sided p-value an exact Mann-Whitney U test can give for these sizes.

    With 3 rounds on each side it is 1/20 = 0.05: such a benchmark can never be significant
    at alpha = 0.01, however large the change.
    """
    # 1 / C(n_head + n_base, n_base), in logs: the binomial coefficient overflows a float.
    log_comb = math.lgamma(n_head + n_base + 1) - math.lgamma(n_head + 1) - math.lgamma(n_base + 1)
    return math.exp(-log_comb)


@dataclass(frozen=True)
class MedianCI:
    """A benchmark's median (seconds) with its interval over `processes` processes.

    With several processes `median` is the mean of the per-process medians and the interval
    includes the spread between processes; with one it is that process's median and interval.
    """

    median: float
    low: float
    high: float
    processes: int
    confidence: float = CONFIDENCE

    @property
    def one_process(self) -> bool:
        return self.processes == 1

    @property
    def relative_width(self) -> float:
        """Interval width over the median (dimensionless); NaN when either is unknown."""
        if not (self.median > 0) or not math.isfinite(self.high - self.low):
            return math.nan
        return (self.high - self.low) / self.median

    @property
    def noisy(self) -> bool:
        width = self.relative_width
        return math.isfinite(width) and width > NOISE_WIDTH_THRESHOLD


@dataclass(frozen=True)
class Disagreement:
    """Whether a benchmark's processes measured different levels (see DISAGREE_*)."""

    # Kruskal-Wallis over the processes' samples; NaN when untestable or the spread is below
    # the floor (the test is skipped then: it costs ~1 ms a benchmark and cannot flag).
    p_value: float
    spread: float  # (max - min) of the per-process medians over the overall median

    @property
    def flagged(self) -> bool:
        return self.p_value < DISAGREE_ALPHA and self.spread > DISAGREE_EFFECT_FLOOR


Processes = Sequence[Sequence[float]]


def process_medians(processes: Processes) -> np.ndarray:
    """The median of each process's samples (seconds), processes without samples left out."""
    return np.array([np.median(p) for p in processes if len(p)], dtype=float)


def hierarchical_draws(processes: Processes, draws: int, rng: np.random.Generator) -> np.ndarray:
    """`draws` bootstrap values of the mean of per-process medians (seconds).

    Each draw resamples the processes with replacement, then draws every chosen process's
    median from that process's exact bootstrap median distribution; a process chosen twice in
    one draw gets two independent resamples. Costs draws x processes, not draws x samples.
    """
    kept = [np.sort(np.asarray(p, dtype=float)) for p in processes if len(p)]
    if not kept:
        raise ValueError("hierarchical_draws() needs at least one process with samples")
    sizes = np.array([p.size for p in kept])
    values = np.concatenate(kept)
    owner = np.repeat(np.arange(len(kept)), sizes)
    n = sizes[owner]
    fraction = (np.arange(values.size) - np.repeat(np.cumsum(sizes) - sizes, sizes) + 1) / n
    last = np.cumsum(sizes) - 1
    # NOTE: one searchsorted for all processes: process i's median CDF is shifted to (i, i + 1],
    # so the keys of all processes form one sorted array and a query i + u lands in process i.
    keys = []
    for order in ((n + 1) // 2, n // 2 + 1 - n % 2):  # the two middle order statistics (1-based)
        cdf = scipy_special.bdtrc(order - 1, n, fraction)
        cdf[last] = 1.0
        keys.append(owner + cdf)
    # A query uniform on (0, P] picks a process and a uniform inside it. Sorted queries make
    # searchsorted ~3x faster; they come in O(n) from exponential spacings, and a random
    # permutation of sorted iid draws is again iid, so slots are filled by one permutation.
    spacings = np.cumsum(rng.standard_exponential(draws * len(kept) + 1))
    queries = spacings[:-1] / spacings[-1] * len(kept)
    low, high = (np.searchsorted(key, queries) for key in keys)
    medians = rng.permutation((values[low] + values[high]) / 2)
    return medians.reshape(draws, len(kept)).mean(axis=1)


@functools.lru_cache(maxsize=64)
def _expansion(processes: int, confidence: float) -> float:
    """How much to widen bootstrap deviations over `processes` clusters (Hesterberg 2015)."""
    tail = 1 - (1 - confidence) / 2
    t = _scipy_stats().t.ppf(tail, processes - 1)
    return math.sqrt(processes / (processes - 1)) * t / _scipy_stats().norm.ppf(tail)


def median_ci(
    processes: Processes,
    *,
    confidence: float = CONFIDENCE,
    resamples: int = HIERARCHICAL_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> MedianCI:
    """The median with a hierarchical bootstrap interval (see the module docstring).

    Args:
        processes: each process's raw samples (seconds); processes without samples are ignored.

    Returns:
        MedianCI in seconds; NaN values when no process has samples.
    """
    kept = [p for p in processes if len(p)]
    if not kept:
        return MedianCI(math.nan, math.nan, math.nan, 0, confidence)
    rng = np.random.default_rng(seed)
    tail = (1 - confidence) / 2
    if len(kept) == 1:
        draws = median_bootstrap_draws(kept[0], resamples, rng)
        low, high = np.quantile(draws, [tail, 1 - tail])
        return MedianCI(float(np.median(kept[0])), float(low), float(high), 1, confidence)
    estimate = float(process_medians(kept).mean())
    deviations = hierarchical_draws(kept, resamples, rng) - estimate
    low, high = estimate + _expansion(len(kept), confidence) * np.quantile(
        deviations, [tail, 1 - tail]
    )
    return MedianCI(estimate, float(low), float(high), len(kept), confidence)


def ratio_ci(
    numerator: Processes,
    denominator: Processes,
    *,
    numerator_median: float | None = None,
    denominator_median: float | None = None,
    confidence: float = CONFIDENCE,
    resamples: int = HIERARCHICAL_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> RatioCI:
    """The ratio of two benchmarks' medians with an interval over their processes.

    With at least two processes on both sides the ratio of the hierarchical estimates, with
    the log-ratio's bootstrap deviations widened for the side with fewer processes; otherwise
    `ratio_of_medians_ci` on the pooled samples (an interval inside one process), which uses
    the given medians for a side without samples.

    Returns:
        RatioCI (dimensionless).
    """
    top = [np.asarray(p, dtype=float) for p in numerator if len(p)]
    bottom = [np.asarray(p, dtype=float) for p in denominator if len(p)]
    if len(top) < 2 or len(bottom) < 2:
        pooled = [np.concatenate(side) if side else None for side in (top, bottom)]
        return ratio_of_medians_ci(
            *pooled,
            numerator_median=numerator_median,
            denominator_median=denominator_median,
            confidence=confidence,
            resamples=resamples,
            seed=seed,
        )
    rng = np.random.default_rng(seed)
    estimate = process_medians(top).mean() / process_medians(bottom).mean()
    draws = hierarchical_draws(top, resamples, rng) / hierarchical_draws(bottom, resamples, rng)
    if not (estimate > 0) or np.any(draws <= 0):
        return RatioCI(float(estimate), math.nan, math.nan, confidence)
    tail = (1 - confidence) / 2
    deviations = np.quantile(np.log(draws / estimate), [tail, 1 - tail])
    low, high = estimate * np.exp(_expansion(min(len(top), len(bottom)), confidence) * deviations)
    return RatioCI(float(estimate), float(low), float(high), confidence)


def processes_disagree(processes: Processes) -> Disagreement:
    """Kruskal-Wallis over the processes' samples with an effect-size floor (DISAGREE_*)."""
    kept = [np.asarray(p, dtype=float) for p in processes if len(p)]
    if len(kept) < 2:
        return Disagreement(math.nan, math.nan)
    medians = process_medians(kept)
    overall = float(np.median(np.concatenate(kept)))
    spread = float(np.ptp(medians) / overall) if overall > 0 else math.nan
    if not spread > DISAGREE_EFFECT_FLOOR:
        return Disagreement(math.nan, spread)
    return Disagreement(float(_scipy_stats().kruskal(*kept).pvalue), spread)


def _scipy_stats():
    """scipy.stats, imported on first use: it is a fifth of a report's CPU time to import."""
    from scipy import stats

    return stats


def geometric_mean(values: Sequence[float]) -> float:
    """Geometric mean of positive finite values (NaN when there are none)."""
    array = np.asarray([value for value in values if math.isfinite(value) and value > 0])
    return float(np.exp(np.mean(np.log(array)))) if array.size else math.nan


def _safe_ratio(top: float | None, bottom: float | None) -> float:
    if top is None or bottom is None or not (bottom > 0) or not math.isfinite(top):
        return math.nan
    return top / bottom


def _has_samples(samples: Sequence[float] | None) -> bool:
    return samples is not None and len(samples) > 0
