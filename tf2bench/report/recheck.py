"""The gate's second stage: the likeliest changes of a first comparison, measured again.

With two pairs a benchmark's test has one or two degrees of freedom, and Benjamini-Hochberg
over a hundred benchmarks then needs a change several times the pair-to-pair spread. The
first comparison still ranks the changes well (on stored power runs the four changed steps were
among the first five by p-value), so `tf2bench ab` (`--recheck K`, default 8) measures its K
likeliest changes again in fresh pairs and decides on those alone: the new data did not take
part in choosing them, so the false discovery rate is controlled over K tests instead of over
all of them. A first-stage change that is a fluke of its processes must show again.
"""

from __future__ import annotations

import dataclasses
import math

from tf2bench.report.compare import Comparison

__all__ = ["apply_recheck", "pick_candidates"]


def pick_candidates(comparison: Comparison, limit: int) -> list[str]:
    """Names of at most `limit` tested changes larger than half the threshold, likeliest first.

    Half the threshold, because the first stage's estimate of a change just over the threshold
    falls below it about half the time.
    """
    tested = [
        change
        for change in comparison.changes
        if not math.isnan(change.q) and abs(change.ratio - 1) > comparison.threshold / 2
    ]
    tested.sort(key=lambda change: min(change.p_slower, change.p_faster))
    return [change.name for change in tested[:limit]]


def apply_recheck(first: Comparison, second: Comparison, pairs: int) -> Comparison:
    """`first` with every benchmark that `second` measured again replaced by its second result.

    The others keep their first-stage status, so a regression that found no room among the
    candidates still counts.
    """
    again = {change.name: dataclasses.replace(change, rechecked=True) for change in second.changes}
    changes = tuple(again.get(change.name, change) for change in first.changes)
    note = (
        f"the {len(again)} likeliest changes were measured again in {pairs} fresh pairs; their "
        f"rows (marked rechecked) and the verdict on them use those pairs alone, with q over "
        f"the {len(again)} (recheck/ has them)"
    )
    return dataclasses.replace(first, changes=changes, recheck=note)
