"""The bootstrap of a median, from its exact law: draws, and the variance of its log.

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

from collections.abc import Sequence

import numpy as np
from scipy import special as scipy_special

__all__ = [
    "BOOTSTRAP_RESAMPLES",
    "BOOTSTRAP_SEED",
    "CONFIDENCE",
    "log_median_variance",
    "median_bootstrap_draws",
]

# Bootstrap settings: the seed is fixed so a report renders the same numbers every time.
BOOTSTRAP_RESAMPLES = 10_000
BOOTSTRAP_SEED = 20261128
CONFIDENCE = 0.95
# Quantiles at which `log_median_variance` evaluates the bootstrap law of a median.
LOG_MEDIAN_VARIANCE_GRID = 4_096


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
    return _bootstrap_medians(samples, rng.random(draws), "median_bootstrap_draws")


def log_median_variance(samples: Sequence[float]) -> float:
    """The bootstrap variance of log(median of `samples`), without random draws.

    The sampling error of one process's median: small for thousands of rounds, large for the
    three builds of a cold start. Evaluated on an even grid of the uniforms that
    `median_bootstrap_draws` would draw, so it is deterministic. 0 for a single sample.
    """
    grid = (np.arange(LOG_MEDIAN_VARIANCE_GRID) + 0.5) / LOG_MEDIAN_VARIANCE_GRID
    return float(np.log(_bootstrap_medians(samples, grid, "log_median_variance")).var())


def _bootstrap_medians(samples: Sequence[float], uniforms: np.ndarray, caller: str) -> np.ndarray:
    """The bootstrap medians of `samples` at the quantiles `uniforms` of their exact law."""
    ordered = np.sort(np.asarray(samples, dtype=float))
    n = ordered.size
    if n == 0:
        raise ValueError(f"{caller}() needs at least one sample, received none")
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
