"""`tf2bench summaries RESULTS.json ... --logdir DIR`: results as TensorBoard scalars, HParams."""

from __future__ import annotations

import argparse
import os

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "summaries",
        help="write results as TensorBoard scalars and HParams sessions",
        description="Writes each benchmark's median, IQR, throughput and first-call time as "
        "scalars, and one HParams session per benchmark configuration, so TensorBoard's "
        "HParams view compares configurations and runs. Nothing in DIR is deleted.",
    )
    parser.add_argument(
        "results", nargs="+", metavar="RESULTS.json", help="pytest-benchmark JSON of tf2bench runs"
    )
    parser.add_argument("--logdir", required=True, metavar="DIR", help="TensorBoard logdir")
    parser.add_argument(
        "--label",
        action="append",
        metavar="NAME",
        help="run folder name per results file, in order (default: each file's name)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tf2bench.errors import UsageError
    from tf2bench.records.schema import load_results
    from tf2bench.tensorboard.paths import prepare_logdir

    if args.label is not None and len(args.label) != len(args.results):
        raise UsageError(
            f"Received {len(args.label)} --label values for {len(args.results)} results files, "
            "expected one per file"
        )
    runs = [load_results(path) for path in args.results]
    prepare_logdir(args.logdir, what="summaries")  # refuse before importing TensorFlow
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # as the pytest plugin does

    from tf2bench.tensorboard.writer import write_summaries

    report = write_summaries(runs, args.logdir, labels=args.label)
    for label, results in zip(report.labels, runs, strict=True):
        print(f"{results.path}: {len(results.benchmarks)} sessions in {report.logdir / label}")
    print(f"open with: tensorboard --logdir {report.logdir}  (HParams and Scalars tabs)")
    return 0
