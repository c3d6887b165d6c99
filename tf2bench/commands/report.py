"""`tf2bench report`: Markdown + HTML report with PNG figures from one or more results files."""

from __future__ import annotations

import argparse
import contextlib
import gc
import sys
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tf2bench.records.schema import RunResults

__all__ = ["register", "run", "warn_partial_and_skipped"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report",
        help="write a Markdown and HTML report with figures from results JSON",
        description="Renders DIR/report.md, DIR/report.html (one self-contained page) and "
        "DIR/figures/*.svg from pytest-benchmark JSON (.json or .json.gz) written by "
        "tf2bench. Several files are shown side by side, labelled by file name; three or more "
        "of one environment also as a history ordered by commit date. Reads records only: "
        "TensorFlow is not imported.",
    )
    parser.add_argument(
        "results", nargs="+", metavar="RESULTS.json", help="results files (.json or .json.gz)"
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="report folder to write")
    parser.add_argument("--title", default="tf2bench report", help="the report's title")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    with _no_cycle_collection():
        return _report(args)


def _report(args: argparse.Namespace) -> int:
    # Imported here so `tf2bench --help` and other subcommands stay fast.
    from tf2bench.records.schema import load_results
    from tf2bench.report.output import check_output, write_report
    from tf2bench.report.sections import build_document

    check_output(args.out)  # fail before the work, not after it
    runs = [load_results(path) for path in args.results]
    notes = warn_partial_and_skipped(runs)
    for results in runs:
        if not any(bench.samples for bench in results.benchmarks):
            sys.stderr.write(
                f"tf2bench: warning: {results.path} has no raw samples (stats.data); "
                "confidence intervals and distributions are left out\n"
            )
    progress = Progress()
    document = build_document(runs, title=args.title, progress=progress)
    document.summary[:0] = [f"**Warning:** {note}" for note in notes]
    target = write_report(document, args.out, progress=progress)
    print(f"wrote {target}/report.md, report.html and {len(document.plots())} figures")
    return 0


@contextlib.contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """The cyclic garbage collector off for the block, as it was afterwards.

    NOTE: importing pandas and matplotlib, loading the records and building the figures
    create millions of objects, and the collector kept walking them: about 7% of a report's
    CPU time. A report makes little cyclic garbage (the same peak memory without it), and
    reference counting still frees everything else.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def warn_partial_and_skipped(runs: Sequence[RunResults]) -> list[str]:
    """Says on stderr which files hold an interrupted run or skipped records; returns the notes."""
    notes = []
    for results in runs:
        if results.partial:
            notes.append(
                f"{results.path} is a partial run: it was interrupted, and holds only the "
                f"{len(results.benchmarks)} benchmarks that finished"
            )
        if results.skipped_foreign:
            notes.append(
                f"{results.path}: {results.skipped_foreign} benchmarks were skipped because "
                "they have no extra_info['tf2bench'] block (not measured by tf2bench)"
            )
    for note in notes:
        sys.stderr.write(f"tf2bench: warning: {note}\n")
    return notes


class Progress:
    """Reports steps on stderr once the report has taken PROGRESS_AFTER_S, and not before."""

    PROGRESS_AFTER_S = 2.0

    def __init__(self) -> None:
        self.start = time.monotonic()

    def __call__(self, step: str) -> None:
        elapsed = time.monotonic() - self.start
        if elapsed >= self.PROGRESS_AFTER_S:
            sys.stderr.write(f"tf2bench report: {step} ({elapsed:.1f} s)\n")
