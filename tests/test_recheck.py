"""The gate's second stage: which changes are measured again, and how their results replace."""

from __future__ import annotations

import math

from tf2bench.report.compare import REGRESSION, Change, Comparison
from tf2bench.report.recheck import apply_recheck, pick_candidates


def change(name: str, ratio: float, p: float, status: str = "no significant change") -> Change:
    return Change(name, 1.0, ratio, ratio, p, 1.0, p, status, noisy=False, test="pairs")


def comparison(*changes: Change) -> Comparison:
    return Comparison("b.json", "h.json", 0.10, 0.01, tuple(changes))


def test_candidates_are_changes_over_half_the_threshold_likeliest_first():
    first = comparison(
        change("small", 1.04, 1e-9),  # under half the threshold: never rechecked
        change("late", 1.08, 0.2),
        change("early", 0.90, 0.001),
        change("middle", 1.30, 0.05),
        change("untested", 1.50, math.nan),
    )
    assert pick_candidates(first, 10) == ["early", "middle", "late"]
    assert pick_candidates(first, 2) == ["early", "middle"]
    assert pick_candidates(first, 0) == []


def test_the_second_stage_decides_on_what_it_measured_and_the_rest_keep_their_status():
    first = comparison(
        change("fluke", 1.30, 1e-6, REGRESSION),
        change("real", 1.20, 1e-5, REGRESSION),
        change("unchecked", 1.25, 1e-4, REGRESSION),
        change("quiet", 1.00, 0.9),
    )
    second = comparison(change("fluke", 1.01, 0.6), change("real", 1.18, 1e-4, REGRESSION))
    final = apply_recheck(first, second, pairs=4)
    by_name = {c.name: c for c in final.changes}
    assert [c.name for c in final.changes] == ["fluke", "real", "unchecked", "quiet"]
    assert by_name["fluke"].status == "no significant change" and by_name["fluke"].rechecked
    assert by_name["real"].ratio == 1.18 and by_name["real"].rechecked
    assert by_name["real"].shown_status == f"{REGRESSION}, rechecked"
    assert {c.name for c in final.regressions} == {"real", "unchecked"}
    assert not by_name["unchecked"].rechecked and not by_name["quiet"].rechecked
    assert "2 likeliest changes" in final.recheck and "4 fresh pairs" in final.recheck
    assert final.exit_code == 1
