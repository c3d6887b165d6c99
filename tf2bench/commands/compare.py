"""`tf2bench compare`: baseline vs candidate results; exit 1 on a significant regression."""

from __future__ import annotations

import argparse
import sys

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "compare",
        help="compare two results files; exit 1 on a significant regression",
        description="Matches benchmarks by name and prints the changes that matter, then a "
        "table of all changes with a geometric-mean row. A regression is a change that is both "
        "significant and slower by more than the threshold. Significance: a moderated t-test on "
        "the per-process medians when both runs have 2+ processes (Mann-Whitney U on the raw "
        "samples otherwise), with the false discovery rate over all benchmarks held at alpha "
        "(Benjamini-Hochberg). Exit codes: 0 no regression, 1 regression, 2 unusable input.",
    )
    parser.add_argument("base", metavar="BASE.json", help="the baseline results")
    parser.add_argument("head", metavar="HEAD.json", help="the candidate results")
    parser.add_argument(
        "--threshold", default="10%", help="smallest slowdown that counts (default: 10%%)"
    )
    parser.add_argument("--alpha", default="0.01", help="false discovery rate (default: 0.01)")
    parser.add_argument(
        "--force",
        action="store_true",
        help="compare runs whose environment fingerprints differ",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tf2bench.commands.report import warn_partial_and_skipped
    from tf2bench.records.schema import load_results
    from tf2bench.report.compare import (
        check_fingerprints,
        compare_runs,
        parse_alpha,
        parse_threshold,
    )
    from tf2bench.report.comparison_text import format_comparison

    threshold, alpha = parse_threshold(args.threshold), parse_alpha(args.alpha)
    base, head = load_results(args.base), load_results(args.head)
    warn_partial_and_skipped([base, head])
    if args.force:
        if base.fingerprint_id != head.fingerprint_id:
            sys.stderr.write(
                "tf2bench: warning: the environment fingerprints differ "
                f"({base.fingerprint_id} vs {head.fingerprint_id}); compared because of --force\n"
            )
    else:
        check_fingerprints(base, head)
    comparison = compare_runs(base, head, threshold=threshold, alpha=alpha)
    if comparison.untested:
        sys.stderr.write(
            f"tf2bench: warning: {len(comparison.untested)} of {len(comparison.changes)} "
            "benchmarks have no raw samples (stats.data) in one of the files; they are compared "
            "on medians only and significance could not be tested\n"
        )
    sys.stdout.write(format_comparison(comparison))
    return comparison.exit_code
