"""The smallest slowdown the gate flags, per family, from a real A/A pair of runs.

    python tools/detectable_change.py BASE.json HEAD.json [--alpha 0.01] [--threshold 0]

BASE and HEAD are two measurements of one commit (e.g. OUT/base.json and OUT/head.json of
`tf2bench ab HEAD HEAD`). For each family and factor f, every raw sample of that family in HEAD
is multiplied by f (a change hitting the whole family), the pair is compared as `tf2bench
compare` would, and the fraction of the family's benchmarks flagged as regressions is printed.
The smallest f that flags at least half of them is the family's detectable change.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import tempfile
from pathlib import Path

from tf2bench.records.files import read_results_text
from tf2bench.records.schema import BLOCK_KEY, load_results
from tf2bench.report.compare import REGRESSION, compare_runs

FACTORS = (1.02, 1.03, 1.05, 1.07, 1.10, 1.15, 1.20, 1.30, 1.50)


def slowed(document: dict, family: str, factor: float) -> dict:
    """A copy of `document` with every sample of `family` multiplied by `factor`."""
    result = copy.deepcopy(document)
    for entry in result["benchmarks"]:
        block = (entry.get("extra_info") or {}).get(BLOCK_KEY) or {}
        if block.get("family") != family:
            continue
        stats = entry["stats"]
        for key in ("min", "max", "mean", "median", "q1", "q3", "iqr", "stddev"):
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base")
    parser.add_argument("head")
    parser.add_argument("--alpha", type=float, default=0.01)
    parser.add_argument("--threshold", type=float, default=0.0)
    args = parser.parse_args(argv)
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
