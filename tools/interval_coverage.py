"""How often one run's intervals contain a fresh rerun's median, per family.

    python tools/interval_coverage.py RUN.json RERUN.json [--family execution]

For every benchmark of the family in both files, the hierarchical interval of RUN (the one the
report prints) is checked against RERUN's median estimate. An honest interval for "what would a
rerun measure" contains it in about its confidence level of cases (95%). Exit 0 always; the
fraction is printed, then the misses.
"""

from __future__ import annotations

import argparse
import sys

from tf2bench.records.schema import load_results
from tf2bench.records.stats import median_ci


def coverage(run_path: str, rerun_path: str, family: str) -> tuple[int, list[tuple[str, float]]]:
    """(benchmarks compared, [(name, rerun median / run median) of each miss])."""
    run = {b.name: b for b in load_results(run_path).benchmarks if b.record.family == family}
    rerun = {b.name: b for b in load_results(rerun_path).benchmarks if b.record.family == family}
    misses, compared = [], 0
    for name in sorted(run.keys() & rerun.keys()):
        interval = median_ci(run[name].process_samples or [run[name].samples or ()])
        other = median_ci(rerun[name].process_samples or [rerun[name].samples or ()]).median
        if not interval.processes or other != other:  # no samples on either side
            continue
        compared += 1
        if not interval.low <= other <= interval.high:
            misses.append((name, other / interval.median))
    return compared, misses


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run")
    parser.add_argument("rerun")
    parser.add_argument("--family", default="execution")
    args = parser.parse_args(argv)
    compared, misses = coverage(args.run, args.rerun, args.family)
    if not compared:
        print(f"no {args.family} benchmark with samples in both files", file=sys.stderr)
        return 2
    covered = compared - len(misses)
    print(
        f"{args.family}: {covered} of {compared} intervals contain the rerun's median "
        f"({covered / compared:.1%})"
    )
    for name, ratio in misses:
        print(f"  miss {name}: rerun/run {ratio:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
