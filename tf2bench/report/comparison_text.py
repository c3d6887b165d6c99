"""The text of a comparison: the changes that matter, the full table, and the verdict."""

from __future__ import annotations

import math

import pandas as pd

from tf2bench.report.compare import PAIRED_TEST, Change, Comparison
from tf2bench.report.formatting import NOISY_MARK, fmt_time

__all__ = ["format_comparison"]


def format_comparison(comparison: Comparison) -> str:
    """The changes that matter, then the full table with a geometric-mean row, then the verdict."""
    lines = []
    matter = [c for c in comparison.changes if c.matters]
    if matter:
        matter.sort(key=lambda c: -abs(math.log(c.ratio)) if c.ratio > 0 else 0)
        lines += [f"## Changes that matter ({len(matter)})", "", *_table(matter, None), ""]
    lines += [f"## All {len(comparison.changes)} benchmarks", ""]
    lines += _table(list(comparison.changes), comparison.geometric_mean_ratio - 1)
    lines += ["", *_verdict(comparison)]
    return "\n".join(lines) + "\n"


def _table(changes: list[Change], geomean: float | None) -> list[str]:
    rows = [
        {
            "benchmark": c.name,
            "base": fmt_time(c.base_s, c.noisy),
            "head": fmt_time(c.head_s),
            "change": _signed_percent(c.change),
            "q": "-" if math.isnan(c.q) else f"{c.q:.2g}",
            "processes": f"{min(c.processes)} pairs"
            if c.test == PAIRED_TEST
            else f"{c.processes[0]}/{c.processes[1]}",
            "status": c.shown_status,
        }
        for c in changes
    ]
    if geomean is not None:
        label = f"geometric mean ({len(changes)} benchmarks)"
        rows.append({"benchmark": label, "change": _signed_percent(geomean)})
    table = pd.DataFrame(rows).fillna("")
    widths = {c: max(len(c), *(len(str(v)) for v in table[c])) for c in table.columns}
    lines = ["| " + " | ".join(c.ljust(widths[c]) for c in table.columns) + " |"]
    lines.append("|" + "|".join("-" * (widths[c] + 2) for c in table.columns) + "|")
    lines += [
        "| " + " | ".join(str(row[c]).ljust(widths[c]) for c in table.columns) + " |"
        for row in table.to_dict("records")
    ]
    return lines


def _signed_percent(change: float) -> str:
    return "-" if math.isnan(change) else f"{change:+.1%}"


def _verdict(comparison: Comparison) -> list[str]:
    rule = (
        f"q < {comparison.alpha:g} (false discovery rate, Benjamini-Hochberg over all tested "
        f"benchmarks) and slower by more than {comparison.threshold * 100:g}%"
    )
    lines = [f"base: {comparison.base}", f"head: {comparison.head}"]
    lines.append(
        "q: Benjamini-Hochberg adjusted two-sided p-value; the test is a moderated paired t on "
        "the per-pair log ratios when the files are the pairs of one `tf2bench ab` run, a "
        "moderated t on the log per-process medians when both sides have 2+ processes, else "
        "Mann-Whitney U on the raw samples (within one process only); change: the geometric "
        "mean of the pair ratios when paired, else the ratio of medians; processes: base/head, or "
        f"the pairs; {NOISY_MARK}: noisy"
    )
    if comparison.only_base:
        lines.append(
            f"only in base ({len(comparison.only_base)}): {', '.join(comparison.only_base)}"
        )
    if comparison.only_head:
        lines.append(
            f"only in head ({len(comparison.only_head)}): {', '.join(comparison.only_head)}"
        )
    if comparison.packages:
        lines.append(
            f"installed packages differ ({len(comparison.packages)}): "
            + "; ".join(comparison.packages)
        )
    if comparison.regressions:
        names = ", ".join(c.name for c in comparison.regressions)
        lines.append(f"{len(comparison.regressions)} regression(s): {names}")
    else:
        lines.append("no regression")
    lines.append(f"a regression is: {rule}")
    return lines
