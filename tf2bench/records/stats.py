"""Statistics on raw timing samples: median, IQR, noise flag, bootstrap CIs of ratios, significance.

No TensorFlow. Every statistic is derived from the raw samples a run kept (`stats.data`).

Bootstrap of a ratio of medians. Resampling n values with replacement B times costs B x n work
(0.3 s for one pair of 5000-sample benchmarks with `scipy.stats.bootstrap`), too slow for a
report of hundreds of benchmarks. The bootstrap distribution of a sample median, though, is
known exactly (Maritz & Jarrett, 1978): the k-th order statistic of a resample of sorted x is
x[j] with P(index <= j) = P(Binomial(n, (j + 1) / n) >= k). `median_bootstrap_draws` draws B
medians from that exact distribution with a seeded generator (for even n, the two middle order
statistics share one uniform draw, a comonotone approximation of their joint law); the ratio's
percentile interval then follows as usual. `tests/test_stats.py` checks it against
`scipy.stats.bootstrap` on the same samples.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special as scipy_special
from scipy import stats as scipy_stats

__all__ = [
    "BOOTSTRAP_RESAMPLES",
    "BOOTSTRAP_SEED",
    "CONFIDENCE",
    "IQR_NOISE_THRESHOLD",
    "RatioCI",
    "Summary",
    "geometric_mean",
    "iqr_ratio",
    "is_noisy",
    "median_bootstrap_draws",
    "min_attainable_p",
    "ratio_of_medians_ci",
    "slower_p_value",
    "summarize",
]

# A result whose IQR is above this fraction of its median is flagged noisy.
IQR_NOISE_THRESHOLD = 0.10
# Bootstrap settings: the seed is fixed so a report renders the same numbers every time.
BOOTSTRAP_RESAMPLES = 10_000
BOOTSTRAP_SEED = 20261128
CONFIDENCE = 0.95


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

    @property
    def noisy(self) -> bool:
        return is_noisy(self.median, self.iqr)


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


def is_noisy(median: float, iqr: float) -> bool:
    """True when the IQR is above IQR_NOISE_THRESHOLD of the median."""
    ratio = iqr_ratio(median, iqr)
    return math.isfinite(ratio) and ratio > IQR_NOISE_THRESHOLD


def median_bootstrap_draws(
    samples: Sequence[float], draws: int, rng: np.random.Generator
) -> np.ndarray:
    """`draws` values from the exact bootstrap distribution of the median of `samples`.

    Args:
        samples: raw values (any order); at least one.
        draws: how many bootstrap medians to draw.
        rng: the generator that supplies the uniforms (seed it for reproducible output).

    Returns:
        An array of `draws` bootstrap medians, in the samples' unit.
    """
    ordered = np.sort(np.asarray(samples, dtype=float))
    n = ordered.size
    if n == 0:
        raise ValueError("median_bootstrap_draws() needs at least one sample, received none")
    uniforms = rng.random(draws)
    cumulative = np.arange(1, n + 1) / n

    def order_statistic(k: int) -> np.ndarray:
        # P(k-th smallest resampled index <= j) = P(Binomial(n, (j + 1) / n) >= k); bdtrc is
        # that binomial tail as a plain ufunc (scipy.stats.binom.sf adds ~1 ms of overhead).
        cdf = scipy_special.bdtrc(k - 1, n, cumulative)
        cdf[-1] = 1.0
        return ordered[np.minimum(np.searchsorted(cdf, uniforms), n - 1)]

    if n % 2:
        return order_statistic((n + 1) // 2)
    return (order_statistic(n // 2) + order_statistic(n // 2 + 1)) / 2


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
    return float(scipy_stats.mannwhitneyu(head, base, alternative="greater").pvalue)


def min_attainable_p(n_head: int, n_base: int) -> float:
    """The smallest one-sided p-value an exact Mann-Whitney U test can give for these sizes.

    With 3 rounds on each side it is 1/20 = 0.05: such a benchmark can never be significant
    at alpha = 0.01, however large the change.
    """
    # 1 / C(n_head + n_base, n_base), in logs: the binomial coefficient overflows a float.
    log_comb = math.lgamma(n_head + n_base + 1) - math.lgamma(n_head + 1) - math.lgamma(n_base + 1)
    return math.exp(-log_comb)


def geometric_mean(values: Sequence[float]) -> float:
    """Geometric mean of positive finite values (NaN when there are none)."""
    array = np.asarray([value for value in values if math.isfinite(value) and value > 0])
    return float(scipy_stats.gmean(array)) if array.size else math.nan


def _safe_ratio(top: float | None, bottom: float | None) -> float:
    if top is None or bottom is None or not (bottom > 0) or not math.isfinite(top):
        return math.nan
    return top / bottom


def _has_samples(samples: Sequence[float] | None) -> bool:
    return samples is not None and len(samples) > 0
