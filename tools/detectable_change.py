"""The smallest slowdown the gate flags, per family, from a real A/A pair of runs.

    python tools/detectable_change.py BASE.json HEAD.json [--alpha 0.01] [--threshold 0]

BASE and HEAD are two measurements of one commit (e.g. OUT/base.json and OUT/head.json of
`tf2bench ab HEAD HEAD`). For each family and factor f, every raw sample of that family in HEAD
is multiplied by f (a change hitting the whole family), the pair is compared as `tf2bench
compare` would, and the fraction of the family's benchmarks flagged as regressions is printed.
The smallest f that flags at least half of them is the family's detectable change.

    python tools/detectable_change.py BASE.json HEAD.json --recheck A/base.json A/head.json \
        B/base.json B/head.json [--candidates 8]

estimates the two-stage gate of `tf2bench ab --recheck` instead: the change hits one benchmark
at a time (as a real change to one workload does); the first comparison (BASE vs HEAD) picks
its candidates, and the second stage decides on them from fresh pairs, here the pairs of the
A/A runs A and B pooled (2 + 2 = 4 pairs, like the default recheck), slowed alike. A family's
detectable change is the smallest f that flags at least half of its benchmarks this way.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import sys
import tempfile
from pathlib import Path

from tf2bench.records.files import read_results_text
from tf2bench.records.schema import BLOCK_KEY, load_results
from tf2bench.report.compare import REGRESSION, compare_runs
from tf2bench.report.recheck import apply_recheck, pick_candidates

SCALED_STATS = ("min", "max", "mean", "median", "q1", "q3", "iqr", "stddev")
FACTORS = (1.02, 1.03, 1.05, 1.07, 1.10, 1.15, 1.20, 1.30, 1.50)


def slowed(document: dict, family: str, factor: float) -> dict:
    """A copy of `document` with every sample of `family` multiplied by `factor`."""
    result = copy.deepcopy(document)
    for entry in result["benchmarks"]:
        block = (entry.get("extra_info") or {}).get(BLOCK_KEY) or {}
        if block.get("family") != family:
            continue
        stats = entry["stats"]
        for key in SCALED_STATS:
            if isinstance(stats.get(key), (int, float)):
                stats[key] *= factor
        stats["data"] = [value * factor for value in stats.get("data", [])]
        for process in block.get("processes", []):
            process["data"] = [value * factor for value in process["data"]]
    return result


def flagged_fraction(base_path: str, head: dict, family: str, alpha: float, threshold: float):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "head.json"
        path.write_text(json.dumps(head))
        comparison = compare_runs(
            load_results(base_path), load_results(path), threshold=threshold, alpha=alpha
        )
    names = {b.name for b in load_results(base_path).benchmarks if b.record.family == family}
    flagged = [c for c in comparison.changes if c.name in names and c.status == REGRESSION]
    others = [c for c in comparison.changes if c.name not in names and c.status == REGRESSION]
    return len(flagged), len(names), len(others)


def slow_one(run, name: str, factor: float):
    """`run` (loaded RunResults) with the samples of benchmark `name` multiplied by `factor`."""

    def slowed_result(bench):
        stats = {k: v * factor if k in SCALED_STATS else v for k, v in bench.stats.items()}
        samples = tuple(v * factor for v in bench.samples) if bench.samples else bench.samples
        processes = tuple(data * factor for data in bench.process_samples)
        return dataclasses.replace(bench, stats=stats, samples=samples, process_samples=processes)

    chosen = tuple(slowed_result(b) if b.name == name else b for b in run.benchmarks)
    return dataclasses.replace(run, benchmarks=chosen)


def only(run, names):
    return dataclasses.replace(run, benchmarks=tuple(b for b in run.benchmarks if b.name in names))


def pooled(first, second):
    """One run whose pairs are those of `first` then those of `second` (renumbered after it)."""
    others = {b.name: b for b in second.benchmarks}
    merged = []
    for bench in first.benchmarks:
        other = others.get(bench.name)
        if other is None or not bench.process_indexes:
            continue
        offset = max(bench.process_indexes)
        merged.append(
            dataclasses.replace(
                bench,
                samples=(bench.samples or ()) + (other.samples or ()),
                process_samples=bench.process_samples + other.process_samples,
                process_indexes=bench.process_indexes
                + tuple(index + offset for index in other.process_indexes),
            )
        )
    return dataclasses.replace(first, benchmarks=tuple(merged))


def two_stage(first, second, name, factor, *, candidates, alpha, threshold):
    """(is `name` flagged, how many others are) when only `name` is slowed by `factor`."""
    (base, head), (base2, head2) = first, second
    settings = {"threshold": threshold, "alpha": alpha}
    verdict = compare_runs(base, slow_one(head, name, factor), **settings)
    chosen = pick_candidates(verdict, candidates)
    if chosen:
        again = compare_runs(
            only(base2, chosen), only(slow_one(head2, name, factor), chosen), **settings
        )
        verdict = apply_recheck(verdict, again, pairs=4)
    flagged = {c.name for c in verdict.changes if c.status == REGRESSION}
    return name in flagged, len(flagged - {name})


def recheck_table(args, factors) -> None:
    first = load_results(args.base), load_results(args.head)
    a_base, a_head, b_base, b_head = (load_results(path) for path in args.recheck)
    second = pooled(a_base, b_base), pooled(a_head, b_head)
    stage2 = {b.name for b in second[0].benchmarks}
    families = sorted({b.record.family for b in first[0].benchmarks})
    print("| family | benchmarks | " + " | ".join(f"x{f:.2f}" for f in factors) + " | detects |")
    print("|---|---:|" + "---:|" * len(factors) + "---|")
    for family in families:
        names = [b.name for b in first[0].benchmarks if b.record.family == family]
        names = [name for name in names if name in stage2]
        cells, detects = [], "none listed"
        for factor in factors:
            found = others = 0
            for name in names:
                hit, extra = two_stage(
                    first, second, name, factor,
                    candidates=args.candidates, alpha=args.alpha, threshold=args.threshold,
                )  # fmt: skip
                found, others = found + hit, others + extra
            cells.append(f"{found / len(names):.0%}" + (f" (+{others} other)" if others else ""))
            if detects == "none listed" and found * 2 >= len(names):
                detects = f"+{factor - 1:.0%}"
        print(f"| {family} | {len(names)} | " + " | ".join(cells) + f" | {detects} |", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base")
    parser.add_argument("head")
    parser.add_argument("--alpha", type=float, default=0.01)
    parser.add_argument("--threshold", type=float, default=0.0)
    parser.add_argument("--recheck", nargs=4, metavar="JSON", help="A/base A/head B/base B/head")
    parser.add_argument("--candidates", type=int, default=8)
    parser.add_argument("--factors", type=float, nargs="+", default=FACTORS)
    args = parser.parse_args(argv)
    if args.recheck:
        recheck_table(args, args.factors)
        return 0
    head = json.loads(read_results_text(args.head))
    families = sorted({b.record.family for b in load_results(args.base).benchmarks})
    print("| family | benchmarks | " + " | ".join(f"x{f:.2f}" for f in FACTORS) + " | detects |")
    print("|---|---:|" + "---:|" * len(FACTORS) + "---|")
    for family in families:
        cells, detects, total = [], "none listed", 0
        for factor in FACTORS:
            flagged, total, others = flagged_fraction(
                args.base, slowed(head, family, factor), family, args.alpha, args.threshold
            )
            cells.append(f"{flagged / total:.0%}" + (f" (+{others} other)" if others else ""))
            if detects == "none listed" and flagged * 2 >= total:
                detects = f"+{factor - 1:.0%}"
        print(f"| {family} | {total} | " + " | ".join(cells) + f" | {detects} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
