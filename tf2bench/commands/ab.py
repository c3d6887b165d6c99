"""`tf2bench ab BASE HEAD`: two git revisions measured alternately on this machine, compared.

Each revision runs from its own worktree with its own (cached) environment. By default the
sides run in CPU-sharing pairs (harness/pairs.py); then the K likeliest changes (`--recheck K`,
default 8) are measured again in fresh pairs (report/recheck.py). `--no-pairing` runs
processes alternately.
Exit codes as `compare`: 0 no regression, 1 regression, 2 bad input or failure.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from tf2bench.harness.processes import say

__all__ = ["DEFAULT_PAIRS", "DEFAULT_RECHECK", "RECHECK_PAIRS", "register", "run"]

# Base/head pairs when --processes is not given: one pair per CPU here; a pair of the quick
# preset takes about 9 minutes on one CPU of this machine (4 pairs took 21 minutes).
DEFAULT_PAIRS = 2
# The second stage (report/recheck.py): 8 candidates in 4 fresh pairs found the ~10% power change
# in each of three quiet quick runs and flagged nothing in three A/A runs, in 11-17 minutes in all
# (README, Base vs head). --recheck 0 turns it off.
DEFAULT_RECHECK = 8
RECHECK_PAIRS = 4


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
        "--recheck",
        type=int,
        default=DEFAULT_RECHECK,
        metavar="K",
        help="measure the K likeliest changes again in fresh pairs and decide on those "
        f"(default {DEFAULT_RECHECK}; 0: off; pairs only)",
    )
    parser.add_argument(
        "--recheck-pairs",
        type=int,
        default=RECHECK_PAIRS,
        metavar="N",
        help=f"fresh pairs for the recheck (default {RECHECK_PAIRS})",
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
    from tf2bench.errors import UsageError
    from tf2bench.harness import revisions
    from tf2bench.harness.pairs import measure_alternately, measure_in_pairs
    from tf2bench.harness.processes import busy_warning, terminate_on_signals
    from tf2bench.report.compare import compare_runs, parse_alpha, parse_threshold

    preset, processes, pytest_args = selection_args(args)
    if args.recheck < 0:
        raise UsageError(f"Received --recheck {args.recheck}, expected 0 or more benchmarks")
    if args.recheck_pairs < 2:
        raise UsageError(f"Received --recheck-pairs {args.recheck_pairs}, expected 2 or more")
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
            documents, paired = measure_in_pairs(sides, processes, pytest_args, work)
        else:
            documents = measure_alternately(sides, processes, args.process_mode, pytest_args, work)
        runs = _write_runs(documents, out)
        comparison = compare_runs(*runs, threshold=threshold, alpha=alpha)
        if paired and args.recheck:
            limits = (args.recheck, args.recheck_pairs)
            comparison = _recheck(comparison, runs[0], sides, limits, pytest_args, work, out)
    notes = [warning.removeprefix("tf2bench: warning: ")] if warning else []
    if args.process_mode == "selection" and not args.no_pairing and not paired:
        notes.append("a revision without paired turns ran its processes on their own, not in pairs")
    return _write_comparison(runs, comparison, out, labels, preset, processes, notes, paired)


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


def _write_runs(documents, out):
    """Writes OUT/base.json and OUT/head.json; returns them read back as (base, head)."""
    from tf2bench.records.files import write_results
    from tf2bench.records.schema import load_results

    for side, document in documents.items():
        write_results(out / f"{side}.json", document)
    base, head = load_results(out / "base.json"), load_results(out / "head.json")
    if base.fingerprint_id != head.fingerprint_id:
        sys.stderr.write(
            "tf2bench: warning: the two revisions run in different environments "
            f"({base.fingerprint_id} vs {head.fingerprint_id}); compared anyway\n"
        )
    return base, head


def _recheck(comparison, base, sides, limits, pytest_args, work, out):
    """The comparison with its likeliest changes measured again in fresh pairs.

    limits: (most benchmarks to measure again, pairs to measure them in).
    """
    from tf2bench.harness.pairs import measure_in_pairs
    from tf2bench.report.compare import compare_runs
    from tf2bench.report.comparison_text import format_comparison
    from tf2bench.report.recheck import apply_recheck, pick_candidates

    limit, pairs = limits
    names = set(pick_candidates(comparison, limit))
    if not names:
        return comparison
    node_ids = [bench.fullname for bench in base.benchmarks if bench.name in names]
    say(f"recheck: the {len(node_ids)} likeliest changes in {pairs} fresh pairs")
    documents, _ = measure_in_pairs(sides, pairs, pytest_args, work, node_ids)
    (out / "recheck").mkdir(exist_ok=True)
    second = compare_runs(
        *_write_runs(documents, out / "recheck"),
        threshold=comparison.threshold,
        alpha=comparison.alpha,
    )
    _write_text(out / "recheck" / "comparison.md", format_comparison(second))
    return apply_recheck(comparison, second, pairs)


def _write_comparison(runs, comparison, out, labels, preset, processes, notes, paired) -> int:
    from tf2bench.report.comparison_text import format_comparison
    from tf2bench.report.render import write_report
    from tf2bench.report.sections import build_document

    if comparison.recheck:
        notes = [*notes, comparison.recheck]
    preface = "".join(f"{line}\n\n" for line in _recheck_lines(comparison))
    _write_text(out / "comparison.md", preface + format_comparison(comparison))
    title = f"tf2bench ab: {labels['base']} vs {labels['head']}"
    document = build_document(list(runs), title=title)
    document.summary[:0] = (
        _verdict_lines(comparison)
        + _recheck_lines(comparison)
        + _estimator_lines(comparison, paired)
    )
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
                "status": c.shown_status,
            }
            for c in order
        ]
    )
    text = (
        f"{' '.join(_verdict_lines(comparison) + _recheck_lines(comparison))} "
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


def _recheck_lines(comparison) -> list[str]:
    """How the likeliest changes were measured again, as a sentence; none without a recheck."""
    note = comparison.recheck
    return [f"{note[0].upper()}{note[1:]}."] if note else []


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
            f"{c.ratio - 1:+.1%} | {c.shown_status} |"
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
