"""`tf2bench run`: the selected benchmarks in N fresh pytest processes, merged into one JSON."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from tf2bench.harness.processes import say

__all__ = ["register", "run", "selection_args"]


def add_selection_options(parser: argparse.ArgumentParser) -> None:
    """The options `run` and `ab` share: what to measure and in how many processes."""
    parser.add_argument(
        "--processes",
        type=int,
        default=None,
        metavar="N",
        help="fresh pytest processes per run (default: 5 for quick, 3 for standard and full)",
    )
    parser.add_argument(
        "--preset", default=None, help="quick, standard or full (default: standard)"
    )
    parser.add_argument("--family", default=None, help="comma-separated families (default: all)")
    parser.add_argument(
        "--process-mode",
        choices=("selection", "benchmark"),
        default="selection",
        help="a process runs the whole selection (default) or one benchmark",
    )


def pass_rest_to_pytest(parser: argparse.ArgumentParser) -> None:
    """Everything after `--` becomes args.pytest_args (argparse alone mixes it into positionals)."""
    parse = parser.parse_known_args

    def parse_known_args(args=None, namespace=None):
        args, rest = list(args or []), []
        if "--" in args:
            cut = args.index("--")
            args, rest = args[:cut], args[cut + 1 :]
        namespace, unknown = parse(args, namespace)
        namespace.pytest_args = rest
        return namespace, unknown

    parser.parse_known_args = parse_known_args
    parser.set_defaults(pytest_args=[])


def selection_args(args: argparse.Namespace) -> tuple[str, int, list[str]]:
    """(preset, processes, pytest arguments) from the shared options; validates them."""
    from tf2bench.errors import UsageError, expect_choice
    from tf2bench.harness.processes import default_processes
    from tf2bench.presets import FAMILIES, PRESETS, active_preset, parse_list

    preset = expect_choice("preset", (args.preset or active_preset()).lower(), PRESETS)
    processes = default_processes(preset) if args.processes is None else args.processes
    if processes < 1:
        raise UsageError(f"Received --processes {processes}, expected a positive integer")
    pytest_args = [f"--tf2bench-preset={preset}"]
    if args.family:
        families = parse_list("family", args.family, FAMILIES)
        pytest_args.append(f"--tf2bench-family={','.join(families)}")
    extra = list(args.pytest_args or [])
    return preset, processes, pytest_args + extra


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "run",
        help="measure in N fresh processes and merge them into one results JSON",
        description="Runs `pytest benchmarks --benchmark-only` in N fresh processes from the "
        "current folder, merges their raw samples (kept per process) into one "
        "pytest-benchmark JSON, and saves it in pytest-benchmark's storage with its raw data, "
        "so --benchmark-compare works with it. Arguments after -- go to pytest.",
    )
    add_selection_options(parser)
    parser.add_argument("--out", required=True, metavar="RESULTS.json", help="merged JSON")
    parser.add_argument(
        "--storage",
        default=".benchmarks",
        metavar="DIR",
        help="pytest-benchmark storage folder (default: .benchmarks)",
    )
    parser.add_argument(
        "--no-storage", action="store_true", help="do not save into pytest-benchmark's storage"
    )
    pass_rest_to_pytest(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tf2bench.errors import UsageError
    from tf2bench.harness.processes import (
        Tree,
        busy_warning,
        collect_ids,
        plan_processes,
        run_repeated,
        terminate_on_signals,
    )
    from tf2bench.harness.storage import save_to_storage
    from tf2bench.records.files import write_results
    from tf2bench.records.merge import check_json_target

    preset, processes, pytest_args = selection_args(args)
    out = check_json_target(args.out)
    tree = Tree(Path.cwd())
    if not (tree.root / "benchmarks").is_dir():
        raise UsageError(
            f"Received the folder {tree.root}, expected a tf2bench checkout with benchmarks/"
        )
    warning = busy_warning()
    if warning:
        sys.stderr.write(warning + "\n")
    with terminate_on_signals(), tempfile.TemporaryDirectory(prefix="tf2bench-run-") as work:
        ids = collect_ids(tree, pytest_args) if args.process_mode == "benchmark" else ()
        plan = plan_processes(processes, args.process_mode, ids)
        say(f"tf2bench run: {preset} preset, {processes} processes ({args.process_mode} mode)")
        document = run_repeated(
            tree, plan, pytest_args, Path(work), mode=args.process_mode, progress=say
        )
    write_results(out, document)
    stored = "" if args.no_storage else f" and {save_to_storage(document, args.storage)}"
    say(f"wrote {out}{stored} ({len(document['benchmarks'])} benchmarks)")
    return 0
