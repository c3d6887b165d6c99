"""`tf2bench matrix`: the same benchmarks in one environment per TensorFlow x Keras release."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:
    from tf2bench.commands.run import add_selection_options, pass_rest_to_pytest

    parser = subparsers.add_parser(
        "matrix",
        help="run the benchmarks in one isolated environment per TensorFlow x Keras version",
        description="Builds (or reuses) one virtual environment per --tensorflow x --keras "
        "combination, runs N fresh pytest processes in each with this checkout's code (the "
        "environments taking turns, process by process), writes "
        "DIR/<tfX.Y-kerasK>.json per environment, DIR/matrix.json (versions, build and run "
        "times, failures) and DIR/report/ with the environments side by side. Arguments "
        "after -- go to pytest.",
    )
    parser.add_argument("--tensorflow", nargs="+", required=True, metavar="X.Y")
    parser.add_argument("--keras", nargs="+", default=["3"], metavar="K", help="3 and/or 2")
    add_selection_options(parser)
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for results+report")
    parser.add_argument(
        "--cache",
        default=None,
        metavar="DIR",
        help="where environments are kept between calls (default: $TF2BENCH_ENV_CACHE or "
        "~/.cache/tf2bench/envs)",
    )
    parser.add_argument(
        "--gzip", action="store_true", help="write the results as .json.gz (smaller files)"
    )
    pass_rest_to_pytest(parser)
    parser.set_defaults(func=run)


def _say(line: str) -> None:
    print(f"tf2bench matrix: {line}", flush=True)


def _warn(line: str) -> None:
    sys.stderr.write(f"tf2bench matrix: {line}\n")
    sys.stderr.flush()


def run(args: argparse.Namespace) -> int:
    from tf2bench.commands.run import selection_args
    from tf2bench.errors import OutputError, UsageError
    from tf2bench.harness import matrix
    from tf2bench.harness.processes import (
        busy_warning,
        collect_ids,
        plan_processes,
        terminate_on_signals,
    )
    from tf2bench.records.files import write_results
    from tf2bench.records.merge import merge_documents
    from tf2bench.report.render import check_output

    envs, problems = matrix.parse_matrix(args.tensorflow, args.keras)
    preset, processes, pytest_args = selection_args(args)
    root = Path.cwd()
    if not (root / "benchmarks").is_dir() or not (root / "pyproject.toml").is_file():
        raise UsageError(f"Received the folder {root}, expected a tf2bench checkout")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise OutputError(f"Received --out {args.out!r}, expected a folder (it is a file)")
    check_output(out / "report")
    for problem in problems:
        _warn(problem)
    uv = matrix.find_uv()
    if uv is None:
        _warn("uv not found: building environments with python -m venv + pip (slower)")
    builder = matrix.EnvBuilder(
        cache=Path(args.cache) if args.cache else matrix.default_cache(),
        base_requirements=matrix.project_dependencies(root),
        uv=uv,
    )
    out.mkdir(parents=True, exist_ok=True)
    warning = busy_warning()
    if warning:
        sys.stderr.write(warning + "\n")  # already says who warns
    rows, runs = {}, []
    for spec in envs:
        rows[spec.label] = {"label": spec.label, "tensorflow": spec.tensorflow, "keras": spec.keras}
        try:
            _say(f"{spec.label}: environment in {builder.path(spec)}")
            env = builder.ensure(spec)
        except matrix.MatrixError as error:
            rows[spec.label].update(status="failed", error=str(error))
            problems.append(str(error))
            _warn(str(error))
            continue
        rows[spec.label].update(
            versions=env.versions, cached=env.cached, build_s=round(env.build_s, 1)
        )
        _say(f"{spec.label}: {'reused' if env.cached else f'built in {env.build_s:.0f} s'}")
        runs.append(matrix.EnvRun(env, out / f"{spec.label}.log"))
    _say(f"{preset} preset, {processes} processes per environment, taking turns")
    with terminate_on_signals(), tempfile.TemporaryDirectory(prefix="tf2bench-matrix-") as work:
        ids = (
            collect_ids(runs[0].tree(root), pytest_args)
            if runs and args.process_mode == "benchmark"
            else ()
        )
        plan = plan_processes(processes, args.process_mode, ids)
        matrix.run_interleaved(runs, root, plan, pytest_args, Path(work), progress=_say)
    written = []
    for run in runs:
        row = rows[run.env.spec.label]
        row["run_s"] = round(run.seconds, 1)
        if run.error:
            row.update(status="failed", error=run.error)
            problems.append(run.error)
            _warn(run.error)
            continue
        document = merge_documents(run.documents, mode=args.process_mode, processes=processes)
        document["machine_info"].setdefault("tf2bench", {})["matrix"] = dict(row)
        target = out / f"{run.env.spec.label}.json{'.gz' if args.gzip else ''}"
        write_results(target, document)
        row.update(status="ok", results=target.name)
        written.append(target)
        _say(f"{run.env.spec.label}: ran in {row['run_s']:.0f} s -> {target}")
    rows = list(rows.values())
    manifest = {"preset": preset, "processes": processes, "refused": problems, "envs": rows}
    write_results(out / "matrix.json", manifest)
    if written:
        _report(written, out / "report")
    return 2 if problems else 0


def _report(paths: list[Path], folder: Path) -> None:
    from tf2bench.records.schema import load_results
    from tf2bench.report.render import write_report
    from tf2bench.report.sections import build_document

    document = build_document([load_results(p) for p in paths], title="tf2bench version matrix")
    _say(f"wrote {write_report(document, folder)}")
