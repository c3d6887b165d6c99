"""`tf2bench ab BASE HEAD`: two git revisions measured alternately on this machine, compared.

Each revision runs from its own worktree with its own (cached) environment. By default the
sides run in pairs: a base and a head process pinned to one CPU that hand it to each other
every few milliseconds (harness/turns.py), so the machine's drift hits both alike; pairs run
side by side, one per CPU. `--no-pairing` runs whole processes alternately (b1 h1 b2 h2 ...).
Exit codes as `compare`: 0 no regression, 1 regression, 2 bad input or failure.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from itertools import zip_longest
from pathlib import Path

from tf2bench.harness.processes import say

__all__ = ["DEFAULT_PAIRS", "register", "run"]

# Base/head pairs when --processes is not given: one pair per CPU here; a pair of the quick
# preset takes about 9 minutes on one CPU of this machine (4 pairs took 21 minutes).
DEFAULT_PAIRS = 2


def register(subparsers: argparse._SubParsersAction) -> None:
    from tf2bench.commands.run import add_selection_options, pass_rest_to_pytest

    parser = subparsers.add_parser(
        "ab",
        help="measure two git revisions alternately and compare them (exit 1 on a regression)",
        description="Checks BASE and HEAD out into worktrees under the cache folder, runs their "
        "benchmarks in alternating fresh processes, merges each side, and writes "
        "OUT/base.json, OUT/head.json, OUT/comparison.md, OUT/summary.md (for CI) and "
        "OUT/report/ (HTML and Markdown with figures). Exit codes: 0 no regression, "
        "1 regression, 2 bad input or failure. --processes counts base/head pairs, each pinned "
        f"to one CPU (default {DEFAULT_PAIRS}). Arguments after -- go to pytest.",
    )
    parser.add_argument("base", metavar="BASE", help="baseline revision (any git revision)")
    parser.add_argument("head", metavar="HEAD", help="candidate revision (HEAD: the checkout)")
    add_selection_options(parser)
    parser.add_argument("--out", required=True, metavar="DIR", help="folder to write")
    parser.add_argument("--threshold", default="10%", help="smallest slowdown that counts")
    parser.add_argument("--alpha", default="0.01", help="significance level (default: 0.01)")
    parser.add_argument(
        "--no-pairing",
        action="store_true",
        help="run whole base and head processes one after another instead of in CPU-sharing "
        "pairs (the default when the process mode is benchmark)",
    )
    parser.add_argument(
        "--cache",
        default=None,
        metavar="DIR",
        help="worktrees and venvs (default: .tf2bench-cache in the repository)",
    )
    pass_rest_to_pytest(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tf2bench.commands.run import selection_args
    from tf2bench.harness import revisions
    from tf2bench.harness.processes import busy_warning, terminate_on_signals
    from tf2bench.report.compare import parse_alpha, parse_threshold

    preset, processes, pytest_args = selection_args(args)
    paired = not args.no_pairing and args.process_mode == "selection"
    if paired and args.processes is None:
        processes = DEFAULT_PAIRS
    threshold, alpha = parse_threshold(args.threshold), parse_alpha(args.alpha)
    out = _check_out_dir(Path(args.out))
    repo = revisions.repo_root(Path.cwd())
    commits = [revisions.resolve(repo, rev) for rev in (args.base, args.head)]
    head_commit = revisions.resolve(repo, "HEAD")
    if head_commit in commits:
        revisions.check_clean(repo)
    cache = Path(args.cache) if args.cache else repo / revisions.CACHE_DIR
    out.mkdir(parents=True, exist_ok=True)
    labels = {"base": f"base {args.base} ({commits[0][:10]})"}
    labels["head"] = f"head {args.head} ({commits[1][:10]})"
    with (
        terminate_on_signals(),
        revisions.worktrees(repo, commits, cache) as trees,
        tempfile.TemporaryDirectory(prefix="tf2bench-ab-") as work,
    ):
        sides = _prepare_sides(trees, commits, labels, cache, out)
        warning = busy_warning()
        if warning:
            sys.stderr.write(warning + "\n")
        how = (
            f"{processes} CPU-sharing pairs of processes"
            if paired
            else f"{processes} processes per side ({args.process_mode} mode)"
        )
        say(f"tf2bench ab: {labels['base']} vs {labels['head']}, {preset} preset, {how}")
        if paired:
            documents, paired = _measure_in_pairs(sides, processes, pytest_args, work)
        else:
            documents = _measure_alternately(sides, processes, args.process_mode, pytest_args, work)
    notes = [warning.removeprefix("tf2bench: warning: ")] if warning else []
    if args.process_mode == "selection" and not args.no_pairing and not paired:
        notes.append("a revision without paired turns ran its processes on their own, not in pairs")
    return _compare_and_write(
        documents, out, labels, preset, processes, threshold, alpha, notes, paired
    )


def _check_out_dir(out: Path) -> Path:
    from tf2bench.errors import OutputError

    if out.exists() and not out.is_dir():
        raise OutputError(f"Received --out {out}, expected a folder (it is a file)")
    return out


def _prepare_sides(trees, commits, labels, cache, out):
    from tf2bench.harness import revisions
    from tf2bench.harness.processes import Tree

    sides = {}
    for side, commit in zip(("base", "head"), commits, strict=True):
        log = out / f"{side}.log"
        log.write_text("", encoding="utf-8")
        python = revisions.environment_for(trees[commit], labels[side], cache, log)
        sides[side] = (Tree(trees[commit], python=python, label=side), log)
    return sides


def _measure_alternately(sides, processes, mode, pytest_args, work):
    from tf2bench.harness.processes import collect_ids, plan_processes, run_process
    from tf2bench.records.merge import merge_documents

    plans = {
        side: plan_processes(
            processes, mode, collect_ids(tree, pytest_args) if mode == "benchmark" else ()
        )
        for side, (tree, _) in sides.items()
    }
    documents = {side: [] for side in sides}
    for pair in zip_longest(plans["base"], plans["head"]):
        for side, process in zip(("base", "head"), pair, strict=True):
            if process is None:
                continue
            tree, log = sides[side]
            document = run_process(tree, process, pytest_args, Path(work), log)
            documents[side].append((process.index, document))
            say(f"{side}: process {len(documents[side])}/{len(plans[side])} done")
    return {
        side: merge_documents(pairs, mode=mode, processes=processes)
        for side, pairs in documents.items()
    }


def _measure_in_pairs(sides, pairs, pytest_args, work):
    """`pairs` base/head pairs, each pinned to one CPU and taking turns; one pair per CPU at once.

    Returns ({side: merged document}, whether every process took turns). Pair i starts base
    first when i is odd and head first when even, so neither side always leads.
    """
    import threading
    import uuid

    from tf2bench.errors import MeasurementError
    from tf2bench.records.merge import merge_documents

    cpus = sorted(os.sched_getaffinity(0))
    token = uuid.uuid4().hex
    documents = {side: [] for side in sides}
    outcomes = {}  # pair index -> True (paired) / False (ran alone) / exception
    running = []  # every process started, so an interrupt can stop them all

    def run_slot(cpu: int, indexes: list[int]) -> None:
        for index in indexes:
            try:
                pair = _run_pair(sides, index, cpu, pytest_args, Path(work), running)
            except BaseException as error:  # reported by the main thread
                outcomes[index] = error
                return
            for side, document in pair.documents.items():
                documents[side].append((index, document))
            outcomes[index] = pair.paired
            say(f"pair {index}/{pairs} done on CPU {cpu} ({pair.seconds:.0f} s)")

    slots = {cpu: list(range(1 + n, pairs + 1, len(cpus))) for n, cpu in enumerate(cpus)}
    threads = [
        threading.Thread(target=run_slot, args=(cpu, indexes), daemon=True)
        for cpu, indexes in slots.items()
        if indexes
    ]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            while thread.is_alive():
                thread.join(0.5)  # short joins keep SIGINT/SIGTERM deliverable
    except BaseException:
        for process in running:
            if process.poll() is None:
                process.kill()
        raise
    failures = [value for value in outcomes.values() if isinstance(value, BaseException)]
    if failures:
        if isinstance(failures[0], MeasurementError):
            raise failures[0]
        raise MeasurementError(f"a pair of processes failed: {failures[0]}") from failures[0]
    paired = all(outcomes.values())
    merged = {
        side: merge_documents(
            pairs_of_side, mode="selection", processes=pairs, pairing=token if paired else None
        )
        for side, pairs_of_side in documents.items()
    }
    return merged, paired


class _Pair:
    def __init__(self, documents, paired, seconds):
        self.documents, self.paired, self.seconds = documents, paired, seconds


def _run_pair(sides, index, cpu, pytest_args, work, running):
    """One base and one head process on `cpu`, taking turns; raises MeasurementError."""
    import tempfile
    import time

    from tf2bench.harness.processes import pytest_command, read_process_results
    from tf2bench.harness.turns import CPUS_ENV, Referee

    order = ("base", "head") if index % 2 else ("head", "base")
    referee = Referee()
    started, logs, paths = [], [], {}
    start = time.perf_counter()
    try:
        for side in order:
            tree, log = sides[side]
            handle, name = tempfile.mkstemp(prefix=f"{side}-{index}-", suffix=".json", dir=work)
            os.close(handle)
            paths[side] = Path(name)
            output = log.open("a", encoding="utf-8")
            logs.append(output)
            process = referee.start(
                pytest_command(tree, paths[side], pytest_args),
                env={**tree.environ(), CPUS_ENV: str(cpu)},
                label=side,
                cwd=tree.root,
                stdout=output,
                stderr=output,
            )
            started.append((side, process))
            running.append(process)
        referee.run()
    finally:
        for _, process in started:
            if process.poll() is None:
                process.kill()
            process.wait()
        for output in logs:
            output.close()
    documents = {
        side: read_process_results(
            f"{side} process {index}", process.returncode, paths[side], sides[side][1]
        )
        for side, process in started
    }
    return _Pair(documents, referee.paired, time.perf_counter() - start)


def _compare_and_write(
    documents, out, labels, preset, processes, threshold, alpha, notes=(), paired=False
) -> int:
    from tf2bench.records.files import write_results
    from tf2bench.records.schema import load_results
    from tf2bench.report.compare import compare_runs, format_comparison
    from tf2bench.report.render import write_report
    from tf2bench.report.sections import build_document

    for side, document in documents.items():
        write_results(out / f"{side}.json", document)
    base, head = load_results(out / "base.json"), load_results(out / "head.json")
    if base.fingerprint_id != head.fingerprint_id:
        sys.stderr.write(
            "tf2bench: warning: the two revisions run in different environments "
            f"({base.fingerprint_id} vs {head.fingerprint_id}); compared anyway\n"
        )
    comparison = compare_runs(base, head, threshold=threshold, alpha=alpha)
    text = format_comparison(comparison)
    _write_text(out / "comparison.md", text)
    title = f"tf2bench ab: {labels['base']} vs {labels['head']}"
    document = build_document([base, head], title=title)
    document.summary[:0] = _verdict_lines(comparison) + _estimator_lines(comparison, paired)
    document.sections.insert(1, _comparison_section(comparison))
    write_report(document, out / "report")
    summary = _summary(comparison, title, preset, processes, notes, paired)
    _write_text(out / "summary.md", summary)
    sys.stdout.write(summary)
    say(f"wrote {out}/summary.md, comparison.md, base.json, head.json and report/")
    return comparison.exit_code


def _comparison_section(comparison):
    """The change table of `compare` as a report section, flagged changes first."""
    import pandas as pd

    from tf2bench.report.formatting import fmt_time
    from tf2bench.report.render import Section, Table

    order = sorted(comparison.changes, key=lambda c: (not c.matters, -abs(c.ratio - 1)))
    rows = pd.DataFrame(
        [
            {
                "benchmark": c.name,
                "base": fmt_time(c.base_s),
                "head": fmt_time(c.head_s),
                "change": f"{c.ratio - 1:+.1%}",
                "q": "-" if c.q != c.q else f"{c.q:.2g}",  # NaN: untested
                "status": c.status,
            }
            for c in order
        ]
    )
    text = (
        f"{_verdict_lines(comparison)[0]} "
        "Regressions and improvements first, then by size of the change; q is the "
        "Benjamini-Hochberg adjusted p-value (comparison.md has the test of each benchmark)."
    )
    return Section("Base vs head", [text, Table(rows)])


def _estimator_lines(comparison, paired: bool) -> list[str]:
    """Which numbers come from the gate's test and which from each side alone."""
    if not paired:
        return []
    return [
        "The verdict and the Base vs head changes come from the paired test: per benchmark the "
        "geometric mean of the pairs' head/base ratios (over all benchmarks "
        f"{comparison.geometric_mean_ratio - 1:+.1%}). The ratios, intervals and noise marks "
        "further down are each side's own across its processes, so they also hold the machine's "
        "drift from pair to pair, which the paired test cancels."
    ]


def _verdict_lines(comparison) -> list[str]:
    regressions = comparison.regressions
    if not regressions:
        return [f"Base vs head: no regression in {len(comparison.changes)} benchmarks."]
    names = ", ".join(change.name for change in regressions)
    return [f"Base vs head: {len(regressions)} regression(s): {names}."]


def _summary(comparison, title: str, preset: str, processes: int, notes=(), paired=False) -> str:
    """A short Markdown summary for a CI job: the verdict and the changes that matter."""
    from tf2bench.report.formatting import fmt_time

    lines = [f"## {title}", ""]
    how = (
        f"{processes} pairs of base and head processes sharing one CPU each"
        if paired
        else f"{processes} alternating process(es) per side"
    )
    lines.append(
        f"{preset} preset, {how}, "
        f"{len(comparison.changes)} benchmarks, geometric mean "
        f"{comparison.geometric_mean_ratio - 1:+.1%}."
    )
    verdict = _verdict_lines(comparison)[0].removeprefix("Base vs head: ")
    lines += ["", f"**{verdict[0].upper()}{verdict[1:]}**", ""]
    flagged = [c for c in comparison.changes if c.matters]
    if flagged:
        lines += ["| benchmark | base | head | change | status |", "|---|---|---|---|---|"]
        lines += [
            f"| `{c.name}` | {fmt_time(c.base_s)} | {fmt_time(c.head_s)} | "
            f"{c.ratio - 1:+.1%} | {c.status} |"
            for c in flagged
        ]
        lines.append("")
    if comparison.packages:
        lines.append(f"Packages differ: {'; '.join(comparison.packages)}.")
    lines += [f"Note: {note}." for note in notes]
    lines.append("The full table is in comparison.md and the report in report/report.html.")
    return "\n".join(lines) + "\n"


def _write_text(path: Path, text: str) -> None:
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_text(text, encoding="utf-8")
    temp.replace(path)
