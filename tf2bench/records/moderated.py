"""Empirical-Bayes moderated t-tests across many benchmarks (limma's method, Smyth 2004).

A comparison tests every benchmark on its per-process medians, often 3 to 5 a side, so each
benchmark's own variance estimate is poor and a plain t-test has little power: with 5 processes
a side a real 15% change often misses the Benjamini-Hochberg cut over 500 benchmarks. The spread
between processes is, in log time, of a similar size across benchmarks, so the benchmarks share
it: each benchmark's variance is shrunk toward a prior fitted to all of them (a scaled inverse
chi-square with d0 degrees of freedom), and the t-statistic gets d0 + d degrees of freedom.
When the variances differ a lot between benchmarks, d0 comes out small and the test is close to
the ordinary pooled t-test; with fewer than MIN_BENCHMARKS benchmarks no prior is fitted.

Shrinking toward a shared variance understates it for the few benchmarks that are much noisier
than the rest, such as a cold start timed in three builds: in a two-pair power run one that the
change did not touch came out +19% and was flagged. Each benchmark's own sampling error is
known from its samples, though, so a caller may pass it as a floor: the variance of the mean
difference is never taken below it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import optimize, special
from scipy import stats as scipy_stats

__all__ = ["MIN_BENCHMARKS", "fit_prior", "moderated_paired_t", "moderated_t"]

MIN_BENCHMARKS = 5


def _trigamma_inverse(value: float) -> float:
    """x with trigamma(x) == value (trigamma falls from +inf to 0 on (0, inf))."""
    return optimize.brentq(lambda x: special.polygamma(1, x) - value, 1e-8, 1e12)


def fit_prior(variances: np.ndarray, dfs: np.ndarray) -> tuple[float, float]:
    """The prior's degrees of freedom d0 (may be inf) and scale s0^2 from sample variances.

    Moment matching on log variances (limma's fitFDist without covariates). Returns (0, nan)
    when there are too few positive variances to fit.
    """
    keep = (variances > 0) & (dfs > 0)
    if keep.sum() < MIN_BENCHMARKS:
        return 0.0, math.nan
    half = dfs[keep] / 2
    e = np.log(variances[keep]) - special.digamma(half) + np.log(half)
    excess = e.var(ddof=1) - special.polygamma(1, half).mean()
    if excess <= 0:
        return math.inf, float(np.exp(e.mean()))
    d0 = 2 * _trigamma_inverse(excess)
    return d0, float(np.exp(e.mean() + special.digamma(d0 / 2) - np.log(d0 / 2)))


def moderated_t(
    base: Sequence[np.ndarray],
    head: Sequence[np.ndarray],
    floors: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, float]:
    """One-sided p-values per benchmark for "head is larger" and "head is smaller".

    Args:
        base, head: per benchmark, the values of each side (logs of per-process medians), at
            least two a side.
        floors: per benchmark, the smallest variance of head mean - base mean to use (the
            sampling error of the per-process medians); None: no floor.

    Returns:
        (p_larger, p_smaller, d0): arrays in the order of the benchmarks, and the prior's
        degrees of freedom (0: no moderation).
    """
    n_base = np.array([len(values) for values in base], dtype=float)
    n_head = np.array([len(values) for values in head], dtype=float)
    pairs = list(zip(base, head, strict=True))
    diff = np.array([h.mean() - b.mean() for b, h in pairs])
    sums = [((b - b.mean()) ** 2).sum() + ((h - h.mean()) ** 2).sum() for b, h in pairs]
    dfs = n_base + n_head - 2
    return _one_sided(diff, np.array(sums) / dfs, dfs, 1 / n_base + 1 / n_head, floors)


def moderated_paired_t(
    differences: Sequence[np.ndarray],
    floors: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, float]:
    """As `moderated_t`, for paired designs: per benchmark, head minus base of each pair.

    Args:
        differences: per benchmark, one value per pair (log head - log base of that pair's
            medians), at least two.
        floors: as in `moderated_t`, for the mean of the differences.
    """
    n = np.array([len(values) for values in differences], dtype=float)
    diff = np.array([values.mean() for values in differences])
    dfs = n - 1
    variances = np.array([values.var(ddof=1) for values in differences])
    return _one_sided(diff, variances, dfs, 1 / n, floors)


def _one_sided(
    diff: np.ndarray,
    variances: np.ndarray,
    dfs: np.ndarray,
    factor: np.ndarray,
    floors: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, float]:
    """p(larger), p(smaller) of t = diff / sqrt(moderated variance * factor), and d0."""
    d0, s0_squared = fit_prior(variances, dfs)
    if math.isinf(d0):
        moderated, total_df = np.full(variances.shape, s0_squared), np.inf
    elif d0 > 0:
        moderated, total_df = (d0 * s0_squared + dfs * variances) / (d0 + dfs), d0 + dfs
    else:
        moderated, total_df = variances, dfs
    scale = np.sqrt(moderated * factor if floors is None else np.fmax(moderated * factor, floors))
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(scale > 0, diff / scale, np.sign(diff) * np.inf)
    # diff == 0 with no variance: no evidence either way.
    t = np.nan_to_num(t, nan=0.0)
    return scipy_stats.t.sf(t, total_df), scipy_stats.t.cdf(t, total_df), d0
