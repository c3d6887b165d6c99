"""Measures noise remedies on the sub-millisecond `many_small_ops` step, arms interleaved.

    python tools/noise_remedies.py [--processes 4] [--seconds 3]

Each of N fresh processes builds the step in every mode and times it in alternating blocks
with each remedy off and on (so machine load hits every arm alike): `round=8` averages 8 calls
per round (a round >= 2 ms, as pytest-benchmark's --benchmark-min-time would), `nogc` disables
the garbage collector during the rounds. Prints, per mode and arm, the within-process IQR over
median, the spread between process medians and the width of the 95% hierarchical interval.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import time

import numpy as np

ARMS = ("plain", "round=8", "nogc")
MODES = ("eager", "autograph", "xla")


def measure(seconds: float) -> dict:
    """One process: per mode and arm, the per-call samples (seconds)."""
    from tf2bench.workloads.steps import StepSpec, build_step

    out = {}
    for mode in MODES:
        step = build_step(StepSpec("many_small_ops", mode, None))
        for _ in range(50):  # warm: tracing and compilation settle
            step.fn(*step.args)
        samples: dict[str, list[float]] = {arm: [] for arm in ARMS}
        for _ in range(10):
            for arm in ARMS:
                calls = 8 if arm == "round=8" else 1
                if arm == "nogc":
                    gc.disable()
                end = time.perf_counter() + seconds / 10
                while time.perf_counter() < end:
                    start = time.perf_counter()
                    for _ in range(calls):
                        step.fn(*step.args)
                    samples[arm].append((time.perf_counter() - start) / calls)
                gc.enable()
        out[mode] = samples
    return out


def summarize(runs: list[dict]) -> None:
    from tf2bench.records.stats import median_ci, process_medians

    for mode in MODES:
        for arm in ARMS:
            procs = [np.asarray(run[mode][arm]) for run in runs]
            q1, q3 = zip(*(np.quantile(p, [0.25, 0.75]) for p in procs), strict=True)
            within = np.median((np.array(q3) - np.array(q1)) / process_medians(procs))
            between = np.std(np.log(process_medians(procs)), ddof=1) if len(procs) > 1 else 0.0
            ci = median_ci(procs)
            print(
                f"{mode:9s} {arm:8s} median {ci.median * 1e6:8.1f} us  within IQR/median "
                f"{within:6.1%}  between sd(log) {between:6.2%}  "
                f"95% interval {ci.relative_width:6.1%}"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=3.0, help="per mode and arm")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(measure(args.seconds)))
        return 0
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    command = [sys.executable, __file__, "--worker", "--seconds", str(args.seconds)]
    runs = [
        json.loads(subprocess.run(command, env=env, capture_output=True, check=True).stdout)
        for _ in range(args.processes)
    ]
    summarize(runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
