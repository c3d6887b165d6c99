"""`tf2bench profile BENCHMARK_ID --logdir DIR`: a TensorBoard profile of one benchmark.

Runs pytest on the benchmark's node id with `--tf2bench-profile=DIR` in a fresh process (a
profile wants a process of its own: one profiler per process, and TensorFlow's device and
thread settings are fixed at start-up), then reports the run folder and the overhead.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

__all__ = ["register", "run"]

EXAMPLE_ID = "benchmarks/test_execution.py::test_step[cpu-mlp_train-autograph-32]"
# pytest's exit codes for "bad command line" and "no tests collected".
PYTEST_NOT_FOUND = (4, 5)
PYTEST_USAGE_ERROR = 4  # also what pytest returns for a node id it cannot find


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "profile",
        help="profile one benchmark for TensorBoard",
        description="Runs one benchmark with pytest, then profiles a few more steps under "
        "tf.profiler with step markers into DIR/<family>/<benchmark>.",
    )
    parser.add_argument(
        "benchmark_id",
        metavar="BENCHMARK_ID",
        help=f"a pytest node id (the 'fullname' in results JSON), e.g. {EXAMPLE_ID}",
    )
    parser.add_argument("--logdir", required=True, metavar="DIR", help="TensorBoard logdir")
    parser.add_argument("--preset", help="tf2bench preset the node id belongs to")
    from tf2bench.tensorboard.profiling import tracer_options

    for tracer, field, default, levels in tracer_options():
        parser.add_argument(
            f"--{tracer}-tracer-level",
            type=int,
            metavar="N",
            default=default,
            help=f"profiler {field}, {min(levels)}-{max(levels)} (default: {default})",
        )
    parser.add_argument(
        "--pytest",
        dest="pytest_args",
        nargs=argparse.REMAINDER,
        default=[],
        metavar="ARGS",
        help="all remaining arguments go to pytest (e.g. --benchmark-max-time=0.2)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tf2bench.errors import MeasurementError, UsageError
    from tf2bench.tensorboard.paths import prepare_logdir
    from tf2bench.tensorboard.profiling import SIDECAR_PREFIX, ProfilerSettings, tracer_options

    settings = ProfilerSettings(
        **{field: getattr(args, field) for _, field, _, _ in tracer_options()}
    )
    path_part = args.benchmark_id.split("::", 1)[0]
    if "::" not in args.benchmark_id or not Path(path_part).is_file():
        raise UsageError(
            f"Received BENCHMARK_ID={args.benchmark_id!r}, expected a pytest node id of an "
            f"existing file, e.g. {EXAMPLE_ID}"
        )
    logdir = prepare_logdir(args.logdir)
    before = set(logdir.rglob(f"{SIDECAR_PREFIX}*.json"))
    command = [
        sys.executable, "-m", "pytest", args.benchmark_id, "--benchmark-only",
        f"--tf2bench-profile={logdir}",
        *(
            f"--tf2bench-profile-{tracer}-tracer={getattr(settings, field)}"
            for tracer, field, _, _ in tracer_options()
        ),
        "-p", "no:cacheprovider", "-q",
        *([f"--tf2bench-preset={args.preset}"] if args.preset else []),
        *args.pytest_args,
    ]  # fmt: skip
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2")}
    done = subprocess.run(command, env=env, check=False, stderr=subprocess.PIPE, text=True)
    code = done.returncode
    refused = _pytest_usage_error(done.stderr) if code == PYTEST_USAGE_ERROR else None
    if refused:  # pytest rejected an option: its words, not a guess about the benchmark id
        raise UsageError(f"pytest refused its arguments ({refused}); check --pytest ARGS")
    sys.stderr.write(done.stderr)
    written = sorted(set(logdir.rglob(f"{SIDECAR_PREFIX}*.json")) - before)
    if not written:
        if code in PYTEST_NOT_FOUND:
            raise UsageError(
                f"Received BENCHMARK_ID={args.benchmark_id!r}, but pytest found no such benchmark "
                f"(exit code {code}); copy a 'fullname' from results JSON, e.g. {EXAMPLE_ID}"
            )
        raise MeasurementError(
            f"no profile was written for {args.benchmark_id} (pytest exit code {code}); "
            "the 'tf2bench: no profile' warning above says why"
        )
    for sidecar in written:
        details = json.loads(sidecar.read_text(encoding="utf-8"))
        print(
            f"profile: {sidecar.parent / details['profile']}  "
            f"overhead x{details['profile_overhead_ratio']:.2f} over {details['steps']} steps"
        )
    print(f"open with: tensorboard --logdir {logdir}  (Profile tab; Graphs for AutoGraph/XLA)")
    return code


def _pytest_usage_error(stderr: str) -> str | None:
    """pytest's own complaint about its command line (argparse's "error:" line), if any."""
    for line in stderr.splitlines():
        if ": error: " in line:
            return line.split(": error: ", 1)[1].strip()
    return None
