"""How fast each CPU's speed wanders, and what sharing one CPU in turns does to a ratio.

    python tools/cpu_drift.py [--seconds 8] [--window-ms 20] [--benchmarks 12]

Part 1 pins this process to each CPU in turn and times a fixed pure-Python loop in windows of
--window-ms: the spread (sd of log time) of one CPU, its autocorrelation at growing lags, and
the correlation of two CPUs' speeds measured in alternating windows. Part 2 measures the same
loop in two processes ("base" and "head", identical code) and prints the spread of their
ratio over --benchmarks repetitions of 1.5 s each, three ways: both pinned to one CPU and
taking 20 ms turns (what `tf2bench ab` does), each on its own CPU taking turns, and both
unpinned taking turns. An identical pair should give a ratio of 1; its spread is what the
machine adds to every comparison. No TensorFlow.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import time

import numpy as np


def loop_seconds(window_s: float) -> float:
    """Seconds per call of a fixed loop, averaged over one window."""
    start, calls = time.perf_counter(), 0
    while time.perf_counter() - start < window_s:
        sum(range(300))
        calls += 1
    return (time.perf_counter() - start) / calls


def drift(cpus: list[int], seconds: float, window_s: float) -> dict:
    """Per CPU: sd of log speed and autocorrelations; and the CPUs' cross-correlation."""
    windows = max(8, int(seconds / window_s / len(cpus)))
    series = {cpu: [] for cpu in cpus}
    for _ in range(windows):
        for cpu in cpus:
            os.sched_setaffinity(0, {cpu})
            series[cpu].append(loop_seconds(window_s))
    os.sched_setaffinity(0, set(cpus))
    logs = {cpu: np.log(values) for cpu, values in series.items()}
    lags = [lag for lag in (1, 2, 4, 8, 16, 32) if lag < windows // 2]
    result = {
        "windows": windows,
        "sd": {cpu: float(values.std()) for cpu, values in logs.items()},
        "autocorrelation": {
            cpu: {lag: _corr(values[:-lag], values[lag:]) for lag in lags}
            for cpu, values in logs.items()
        },
    }
    if len(cpus) >= 2:
        result["cross_correlation"] = _corr(logs[cpus[0]], logs[cpus[1]])
    return result


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a, b)[0, 1])


def _slices(connection, cpu: int | None, window_s: float) -> None:
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})
    while connection.recv():
        times, start = [], time.perf_counter()
        while time.perf_counter() - start < window_s:
            times.append(loop_seconds(0.001))
        connection.send(times)


def ratio_spread(
    cpus: tuple[int | None, int | None], benchmarks: int, seconds: float, window_s: float
) -> tuple[float, list[float]]:
    """sd of log(head/base) of identical code over `benchmarks` repetitions, taking turns."""
    ends, workers = [], []
    for cpu in cpus:
        parent, child = multiprocessing.Pipe()
        worker = multiprocessing.Process(target=_slices, args=(child, cpu, window_s))
        worker.start()
        ends.append(parent)
        workers.append(worker)
    ratios = []
    try:
        for _ in range(benchmarks):
            samples, turn, start = ([], []), 0, time.perf_counter()
            while time.perf_counter() - start < seconds:
                for side in (0, 1) if turn % 2 == 0 else (1, 0):
                    ends[side].send(True)
                    samples[side].extend(ends[side].recv())
                turn += 1
            ratios.append(float(np.median(samples[1]) / np.median(samples[0])))
    finally:
        for end, worker in zip(ends, workers, strict=True):
            end.send(False)
            worker.join()
    return float(np.std(np.log(ratios))), ratios


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="length of part 1")
    parser.add_argument("--window-ms", type=float, default=20.0, help="window and turn length")
    parser.add_argument("--benchmarks", type=int, default=12, help="repetitions in part 2")
    parser.add_argument("--benchmark-seconds", type=float, default=1.5)
    args = parser.parse_args(argv)
    window = args.window_ms / 1000
    cpus = sorted(os.sched_getaffinity(0))
    result = drift(cpus[:2], args.seconds, window)
    print(f"part 1: {result['windows']} windows of {args.window_ms:g} ms per CPU")
    for cpu in cpus[:2]:
        lags = ", ".join(
            f"{lag * args.window_ms * len(cpus[:2]):g} ms {value:.2f}"
            for lag, value in result["autocorrelation"][cpu].items()
        )
        print(f"  CPU {cpu}: sd of log speed {result['sd'][cpu]:.3f}; autocorrelation {lags}")
    if "cross_correlation" in result:
        print(
            f"  correlation of CPU {cpus[0]} and CPU {cpus[1]}: {result['cross_correlation']:.2f}"
        )
    print(
        f"part 2: identical base and head, {args.benchmarks} x {args.benchmark_seconds:g} s, "
        f"{args.window_ms:g} ms turns; sd of log(head/base):"
    )
    layouts = {"one CPU for both (tf2bench ab)": (cpus[-1], cpus[-1])}
    if len(cpus) >= 2:
        layouts["a CPU each"] = (cpus[0], cpus[1])
    layouts["unpinned"] = (None, None)
    for name, layout in layouts.items():
        spread, _ = ratio_spread(layout, args.benchmarks, args.benchmark_seconds, window)
        print(f"  {name}: {spread:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
