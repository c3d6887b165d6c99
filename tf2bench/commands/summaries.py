"""`tf2bench summaries RESULTS.json ... --logdir DIR`: results as TensorBoard scalars, HParams."""

from __future__ import annotations

import argparse
import os

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "summaries",
        help="write results as TensorBoard scalars and HParams sessions",
        description="Writes the results files as one series: ordered by the commit date in "
        "their fingerprints, file i at step i, so each benchmark's median, IQR, throughput "
        "and first-call time are lines in the Scalars tab, its raw samples a histogram per "
        "step, each fingerprint text; one HParams session per benchmark, its params as "
        "separate hparams. Nothing in DIR is deleted.",
    )
    parser.add_argument(
        "results", nargs="+", metavar="RESULTS.json", help="pytest-benchmark JSON of tf2bench runs"
    )
    parser.add_argument("--logdir", required=True, metavar="DIR", help="TensorBoard logdir")
    parser.add_argument(
        "--label",
        metavar="NAME",
        help="the series' run folder name (default: the first file's name)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tf2bench.records.schema import load_results
    from tf2bench.tensorboard.paths import prepare_logdir

    runs = [load_results(path) for path in args.results]
    prepare_logdir(args.logdir, what="summaries")  # refuse before importing TensorFlow
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # as the pytest plugin does

    from tf2bench.tensorboard.writer import write_summaries

    report = write_summaries(runs, args.logdir, label=args.label)
    print(
        f"{report.sessions} sessions over {report.steps} step(s) (one per results file, in "
        f"commit-date order) in {report.logdir / report.label}"
    )
    print(f"open with: tensorboard --logdir {report.logdir}  (Scalars, Time Series, HParams)")
    return 0
