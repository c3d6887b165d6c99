"""Baseline vs candidate: per-benchmark changes, significance, the regression verdict, exit codes.

A benchmark regressed when both hold:
    - significant: the one-sided Mann-Whitney U test (scipy.stats.mannwhitneyu, alternative
      "greater": the candidate's raw times are stochastically larger) gives p < alpha;
    - large: the candidate's median is slower than the baseline's by more than the threshold.
Improvements are tested the same way in the other direction. Without raw samples on either side
a change is reported on medians only, marked untested, and never counts as a regression.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from tf2bench.errors import RecordError, UsageError
from tf2bench.records.schema import COMPARABLE_FINGERPRINT_KEYS, RunResults
from tf2bench.records.stats import geometric_mean, is_noisy, min_attainable_p, slower_p_value
from tf2bench.report.formatting import NOISY_MARK, fmt_time

__all__ = [
    "DEFAULT_ALPHA",
    "DEFAULT_THRESHOLD",
    "EXIT_OK",
    "EXIT_REGRESSION",
    "Change",
    "Comparison",
    "check_fingerprints",
    "compare_runs",
    "format_comparison",
    "parse_alpha",
    "parse_threshold",
]

DEFAULT_THRESHOLD = 0.10
DEFAULT_ALPHA = 0.01
EXIT_OK, EXIT_REGRESSION = 0, 1

REGRESSION = "REGRESSION"
IMPROVED = "improved"


@dataclass(frozen=True)
class Change:
    """One benchmark in both files. ratio = head median / base median (> 1: head is slower)."""

    name: str
    base_s: float
    head_s: float
    ratio: float
    p_slower: float  # one-sided Mann-Whitney U, NaN when untested
    p_faster: float
    status: str
    noisy: bool

    @property
    def change(self) -> float:
        return self.ratio - 1


@dataclass(frozen=True)
class Comparison:
    base: str
    head: str
    threshold: float
    alpha: float
    changes: tuple[Change, ...]
    only_base: tuple[str, ...] = ()
    only_head: tuple[str, ...] = ()
    untested: tuple[str, ...] = field(default=())

    @property
    def regressions(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.status == REGRESSION)

    @property
    def geometric_mean_ratio(self) -> float:
        return geometric_mean([c.ratio for c in self.changes])

    @property
    def exit_code(self) -> int:
        return EXIT_REGRESSION if self.regressions else EXIT_OK


def parse_threshold(text: str) -> float:
    """'10%' -> 0.10; '0.1' -> 0.1. Raises UsageError for anything else."""
    value = text.strip()
    try:
        number = float(value[:-1]) / 100 if value.endswith("%") else float(value)
    except ValueError:
        number = math.nan
    if not (0 <= number < 1) or (not value.endswith("%") and number >= 1):
        raise UsageError(
            "Received an invalid --threshold, expected a percentage like 10% or a fraction "
            f"like 0.1 (0 <= threshold < 100%). Received: {text!r}"
        )
    return number


def parse_alpha(text: str) -> float:
    """'0.01' -> 0.01. Raises UsageError unless 0 < alpha < 1."""
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not 0 < number < 1:
        raise UsageError(
            f"Received an invalid --alpha, expected a number between 0 and 1. Received: {text!r}"
        )
    return number


def check_fingerprints(base: RunResults, head: RunResults) -> None:
    """Raises UsageError when the two runs come from different environments."""
    if base.fingerprint_id == head.fingerprint_id:
        return
    differences = [
        f"{key}: {base.fingerprint.get(key)!r} vs {head.fingerprint.get(key)!r}"
        for key in COMPARABLE_FINGERPRINT_KEYS
        if base.fingerprint.get(key) != head.fingerprint.get(key)
    ]
    raise UsageError(
        f"{head.path}: environment fingerprint {head.fingerprint_id} differs from {base.path}'s "
        f"{base.fingerprint_id} ({'; '.join(differences)}); compare runs of one environment, "
        "or pass --force"
    )


def compare_runs(
    base: RunResults,
    head: RunResults,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    alpha: float = DEFAULT_ALPHA,
) -> Comparison:
    """Matches benchmarks by name (fullname) and classifies every change.

    Raises:
        RecordError: the two files have no benchmark in common.
    """
    base_by_name = {bench.fullname: bench for bench in base.benchmarks}
    head_by_name = {bench.fullname: bench for bench in head.benchmarks}
    common = [name for name in base_by_name if name in head_by_name]
    if not common:
        raise RecordError(
            f"{head.path}: no benchmark in common with {base.path}, expected runs of the same "
            "benchmarks (matched by name)"
        )
    changes, untested = [], []
    for name in common:
        old, new = base_by_name[name], head_by_name[name]
        change = _classify(old, new, threshold, alpha)
        changes.append(change)
        if math.isnan(change.p_slower):
            untested.append(old.name)
    return Comparison(
        base=base.path,
        head=head.path,
        threshold=threshold,
        alpha=alpha,
        changes=tuple(changes),
        only_base=tuple(base_by_name[n].name for n in base_by_name if n not in head_by_name),
        only_head=tuple(head_by_name[n].name for n in head_by_name if n not in base_by_name),
        untested=tuple(untested),
    )


def _classify(old, new, threshold: float, alpha: float) -> Change:
    ratio = new.median_s / old.median_s if old.median_s > 0 else math.nan
    noisy = is_noisy(old.median_s, old.iqr_s) or is_noisy(new.median_s, new.iqr_s)
    slower, faster = ratio - 1 > threshold, 1 - ratio > threshold
    if not old.samples or not new.samples:
        p_slower = p_faster = math.nan
        status = "slower, untested" if slower else "faster, untested" if faster else "untested"
    else:
        p_slower = slower_p_value(new.samples, old.samples)
        p_faster = slower_p_value(old.samples, new.samples)
        testable = min_attainable_p(len(new.samples), len(old.samples)) < alpha
        if p_slower < alpha:
            status = REGRESSION if slower else "slower, within threshold"
        elif p_faster < alpha:
            status = IMPROVED if faster else "faster, within threshold"
        elif (slower or faster) and not testable:
            status = f"{'slower' if slower else 'faster'}, too few rounds to test"
        else:
            status = "no significant change"
    return Change(old.name, old.median_s, new.median_s, ratio, p_slower, p_faster, status, noisy)


def _p_text(change: Change) -> str:
    p = change.p_faster if change.ratio < 1 else change.p_slower
    return "-" if math.isnan(p) else f"{p:.2g}"


def format_comparison(comparison: Comparison) -> str:
    """The change table (Markdown) with a geometric-mean row, then the verdict."""
    rows = [
        {
            "benchmark": c.name,
            "base": fmt_time(c.base_s, c.noisy),
            "head": fmt_time(c.head_s),
            "change": _signed_percent(c.change),
            "p": _p_text(c),
            "status": c.status,
        }
        for c in comparison.changes
    ]
    geomean = comparison.geometric_mean_ratio - 1
    rows.append(
        {
            "benchmark": f"geometric mean ({len(comparison.changes)} benchmarks)",
            "base": "",
            "head": "",
            "change": _signed_percent(geomean),
            "p": "",
            "status": "",
        }
    )
    table = pd.DataFrame(rows)
    widths = {c: max(len(c), *(len(str(v)) for v in table[c])) for c in table.columns}
    lines = ["| " + " | ".join(c.ljust(widths[c]) for c in table.columns) + " |"]
    lines.append("|" + "|".join("-" * (widths[c] + 2) for c in table.columns) + "|")
    lines += [
        "| " + " | ".join(str(row[c]).ljust(widths[c]) for c in table.columns) + " |"
        for row in table.to_dict("records")
    ]
    lines += ["", *_verdict(comparison)]
    return "\n".join(lines) + "\n"


def _signed_percent(change: float) -> str:
    return "-" if math.isnan(change) else f"{change:+.1%}"


def _verdict(comparison: Comparison) -> list[str]:
    rule = (
        f"p < {comparison.alpha:g} in a one-sided Mann-Whitney U test on the raw samples and "
        f"slower by more than {comparison.threshold * 100:g}%"
    )
    lines = [f"base: {comparison.base}", f"head: {comparison.head}"]
    lines.append(
        f"p: one-sided Mann-Whitney U p-value in the direction of the change; {NOISY_MARK}: noisy"
    )
    if comparison.only_base:
        lines.append(
            f"only in base ({len(comparison.only_base)}): {', '.join(comparison.only_base)}"
        )
    if comparison.only_head:
        lines.append(
            f"only in head ({len(comparison.only_head)}): {', '.join(comparison.only_head)}"
        )
    if comparison.regressions:
        names = ", ".join(c.name for c in comparison.regressions)
        lines.append(f"{len(comparison.regressions)} regression(s): {names}")
    else:
        lines.append("no regression")
    lines.append(f"a regression is: {rule}")
    return lines
