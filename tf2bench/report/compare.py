"""Baseline vs candidate: per-benchmark changes, significance, the regression verdict, exit codes.

A benchmark regressed when both hold:
    - significant: after Benjamini-Hochberg across every tested benchmark
      (`scipy.stats.false_discovery_control`), its q-value is below alpha, so at most a fraction
      alpha of the flagged changes are expected to be false;
    - large: the candidate is slower than the baseline by more than the threshold.
The per-benchmark test depends on what the files hold. With at least two processes on both
sides it is a t-test on the logs of the per-process medians: a process is the unit that varies
between runs, so samples of one process do not count as independent evidence. The t-test is
moderated (records/moderated.py): with few processes each benchmark's variance is shrunk toward
the one shared by all benchmarks of the comparison, which gives the test its power. With one
process on either side it falls back to the Mann-Whitney U test on the raw samples, which sees
only the variation inside one process. When the two files come from the pairs of one
`tf2bench ab` run (the same `pairing` token), each pair's processes shared a CPU turn by turn,
so the test is a moderated paired t on the per-pair log ratios, and the change is their
geometric mean: the drift of the machine, common to a pair, drops out. Either t-test uses at
least the variance that the medians' own sampling error implies (`log_median_variance`), so a
benchmark timed in a few rounds, such as a cold start, is not judged by the steadier rest.
Improvements are tested the same way in the other direction. Without raw samples on either
side a change is reported on medians only, marked untested, and never counts as a regression.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import stats as scipy_stats

from tf2bench.errors import RecordError, UsageError
from tf2bench.records.moderated import moderated_paired_t, moderated_t
from tf2bench.records.schema import COMPARABLE_FINGERPRINT_KEYS, BenchmarkResult, RunResults
from tf2bench.records.stats import (
    geometric_mean,
    log_median_variance,
    median_ci,
    min_attainable_p,
    process_medians,
    slower_p_value,
)

__all__ = [
    "DEFAULT_ALPHA",
    "DEFAULT_THRESHOLD",
    "EXIT_OK",
    "EXIT_REGRESSION",
    "Change",
    "Comparison",
    "check_fingerprints",
    "compare_runs",
    "package_differences",
    "parse_alpha",
    "parse_threshold",
]

DEFAULT_THRESHOLD = 0.10
DEFAULT_ALPHA = 0.01
EXIT_OK, EXIT_REGRESSION = 0, 1

REGRESSION = "REGRESSION"
IMPROVED = "improved"
# The tests behind `Change.test`.
PROCESS_TEST, PAIRED_TEST, SAMPLE_TEST = "processes", "pairs", "samples"


@dataclass(frozen=True)
class Change:
    """One benchmark in both files. ratio = head median / base median (> 1: head is slower).

    With several processes a side's median is the mean of its per-process medians.
    """

    name: str
    base_s: float
    head_s: float
    ratio: float
    p_slower: float  # one-sided, NaN when untested
    p_faster: float
    q: float  # Benjamini-Hochberg adjusted two-sided p-value, NaN when untested
    status: str
    noisy: bool
    test: str = SAMPLE_TEST  # PROCESS_TEST or SAMPLE_TEST
    processes: tuple[int, int] = (1, 1)
    rechecked: bool = False  # measured again in fresh pairs (report/recheck.py)

    @property
    def change(self) -> float:
        return self.ratio - 1

    @property
    def matters(self) -> bool:
        return self.status in (REGRESSION, IMPROVED)

    @property
    def shown_status(self) -> str:
        return f"{self.status}, rechecked" if self.rechecked else self.status


@dataclass(frozen=True)
class Comparison:
    base: str
    head: str
    threshold: float
    alpha: float
    changes: tuple[Change, ...]
    only_base: tuple[str, ...] = ()
    only_head: tuple[str, ...] = ()
    untested: tuple[str, ...] = field(default=())
    packages: tuple[str, ...] = ()  # "name: base -> head" for differing installed packages
    recheck: str = ""  # how the likeliest changes were measured again (report/recheck.py)

    @property
    def regressions(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.status == REGRESSION)

    @property
    def geometric_mean_ratio(self) -> float:
        return geometric_mean([c.ratio for c in self.changes])

    @property
    def exit_code(self) -> int:
        return EXIT_REGRESSION if self.regressions else EXIT_OK


def parse_threshold(text: str) -> float:
    """'10%' -> 0.10; '0.1' -> 0.1. Raises UsageError for anything else."""
    value = text.strip()
    try:
        number = float(value[:-1]) / 100 if value.endswith("%") else float(value)
    except ValueError:
        number = math.nan
    if not (0 <= number < 1) or (not value.endswith("%") and number >= 1):
        raise UsageError(
            "Received an invalid --threshold, expected a percentage like 10% or a fraction "
            f"like 0.1 (0 <= threshold < 100%). Received: {text!r}"
        )
    return number


def parse_alpha(text: str) -> float:
    """'0.01' -> 0.01. Raises UsageError unless 0 < alpha < 1."""
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not 0 < number < 1:
        raise UsageError(
            f"Received an invalid --alpha, expected a number between 0 and 1. Received: {text!r}"
        )
    return number


def check_fingerprints(base: RunResults, head: RunResults) -> None:
    """Raises UsageError when the two runs come from different environments."""
    if base.fingerprint_id == head.fingerprint_id:
        return
    differences = [
        f"{key}: {base.fingerprint.get(key)!r} vs {head.fingerprint.get(key)!r}"
        for key in COMPARABLE_FINGERPRINT_KEYS
        if base.fingerprint.get(key) != head.fingerprint.get(key)
    ]
    raise UsageError(
        f"{head.path}: environment fingerprint {head.fingerprint_id} differs from {base.path}'s "
        f"{base.fingerprint_id} ({'; '.join(differences)}); compare runs of one environment, "
        "or pass --force"
    )


def package_differences(base: RunResults, head: RunResults) -> tuple[str, ...]:
    """'name: base -> head' for every installed package whose version differs (or is missing)."""
    old = base.fingerprint.get("packages") or {}
    new = head.fingerprint.get("packages") or {}
    if not isinstance(old, dict) or not isinstance(new, dict) or not (old and new):
        return ()
    return tuple(
        f"{name}: {old.get(name, 'absent')} -> {new.get(name, 'absent')}"
        for name in sorted(set(old) | set(new), key=str.lower)
        if old.get(name) != new.get(name)
    )


def compare_runs(
    base: RunResults,
    head: RunResults,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    alpha: float = DEFAULT_ALPHA,
) -> Comparison:
    """Matches benchmarks by name (fullname), tests every change and controls the FDR.

    Raises:
        RecordError: the two files have no benchmark in common.
    """
    base_by_name = {bench.fullname: bench for bench in base.benchmarks}
    head_by_name = {bench.fullname: bench for bench in head.benchmarks}
    common = [name for name in base_by_name if name in head_by_name]
    if not common:
        raise RecordError(
            f"{head.path}: no benchmark in common with {base.path}, expected runs of the same "
            "benchmarks (matched by name)"
        )
    pairing = base.fingerprint.get("pairing")
    paired = bool(pairing) and pairing == head.fingerprint.get("pairing")
    tests = [_test(base_by_name[name], head_by_name[name], paired) for name in common]
    _process_tests([test for test in tests if test["test"] == PROCESS_TEST])
    _paired_tests([test for test in tests if test["test"] == PAIRED_TEST])
    q_values = _benjamini_hochberg([t["p_slower"] for t in tests], [t["p_faster"] for t in tests])
    changes = [
        _classify(test, q, threshold, alpha) for test, q in zip(tests, q_values, strict=True)
    ]
    return Comparison(
        base=base.path,
        head=head.path,
        threshold=threshold,
        alpha=alpha,
        changes=tuple(changes),
        only_base=tuple(base_by_name[n].name for n in base_by_name if n not in head_by_name),
        only_head=tuple(head_by_name[n].name for n in head_by_name if n not in base_by_name),
        untested=tuple(c.name for c in changes if math.isnan(c.p_slower)),
        packages=package_differences(base, head),
    )


def _test(old: BenchmarkResult, new: BenchmarkResult, paired: bool = False) -> dict:
    """The medians, one-sided p-values and test used for one benchmark."""
    before, after = median_ci(old.process_samples), median_ci(new.process_samples)
    result = {
        "name": old.name,
        "noisy": before.noisy or after.noisy,
        "processes": (before.processes or 1, after.processes or 1),
        "test": SAMPLE_TEST,
        "p_slower": math.nan,
        "p_faster": math.nan,
        "min_p": math.nan,  # the smallest two-sided p-value the test can give
    }
    pairs = _pairs(old, new) if paired else []
    if len(pairs) >= 2:
        bases, heads = [b for b, _ in pairs], [h for _, h in pairs]
        differences = np.log(process_medians(heads)) - np.log(process_medians(bases))
        result.update(
            base_s=before.median,
            head_s=after.median,
            ratio=float(np.exp(differences.mean())),
            test=PAIRED_TEST,
            differences=differences,
            floor=_mean_sampling_variance(bases) + _mean_sampling_variance(heads),
            min_p=0.0,
        )
        return result
    if before.processes >= 2 and after.processes >= 2:
        result.update(
            base_s=before.median,
            head_s=after.median,
            test=PROCESS_TEST,
            logs=(
                np.log(process_medians(old.process_samples)),
                np.log(process_medians(new.process_samples)),
            ),
            floor=_mean_sampling_variance(old.process_samples)
            + _mean_sampling_variance(new.process_samples),
            min_p=0.0,
        )
        return result
    result.update(base_s=old.median_s, head_s=new.median_s)
    if old.samples and new.samples:
        result.update(
            p_slower=slower_p_value(new.samples, old.samples),
            p_faster=slower_p_value(old.samples, new.samples),
            min_p=2 * min_attainable_p(len(new.samples), len(old.samples)),
        )
    return result


def _pairs(old: BenchmarkResult, new: BenchmarkResult) -> list[tuple[np.ndarray, np.ndarray]]:
    """(base samples, head samples) of each pair that measured the benchmark on both sides."""
    base = dict(zip(old.process_indexes, old.process_samples, strict=True))
    head = dict(zip(new.process_indexes, new.process_samples, strict=True))
    common = sorted(set(base) & set(head))
    return [(base[i], head[i]) for i in common if len(base[i]) and len(head[i])]


def _mean_sampling_variance(processes: Sequence[np.ndarray]) -> float:
    """The sampling variance of the mean of the processes' log medians."""
    kept = [samples for samples in processes if len(samples)]
    return sum(log_median_variance(samples) for samples in kept) / len(kept) ** 2


def _paired_tests(tests: list[dict]) -> None:
    """Fills in the p-values of the benchmarks tested on per-pair ratios, all at once."""
    if not tests:
        return
    slower, faster, _ = moderated_paired_t(
        [t["differences"] for t in tests], np.array([t["floor"] for t in tests])
    )
    for test, p_slower, p_faster in zip(tests, slower, faster, strict=True):
        test.update(p_slower=float(p_slower), p_faster=float(p_faster))


def _process_tests(tests: list[dict]) -> None:
    """Fills in the p-values of the benchmarks tested on per-process medians, all at once."""
    if not tests:
        return
    slower, faster, _ = moderated_t(
        [t["logs"][0] for t in tests],
        [t["logs"][1] for t in tests],
        np.array([t["floor"] for t in tests]),
    )
    for test, p_slower, p_faster in zip(tests, slower, faster, strict=True):
        test.update(p_slower=float(p_slower), p_faster=float(p_faster))


def _benjamini_hochberg(p_slower: list[float], p_faster: list[float]) -> list[float]:
    """BH-adjusted two-sided p-values (q-values) over the tested benchmarks; NaN for the rest."""
    two_sided = np.minimum(1.0, 2 * np.fmin(p_slower, p_faster))
    tested = ~np.isnan(two_sided)
    q = np.full(two_sided.shape, math.nan)
    if tested.any():
        q[tested] = scipy_stats.false_discovery_control(two_sided[tested], method="bh")
    return q.tolist()


def _classify(test: dict, q: float, threshold: float, alpha: float) -> Change:
    base_s, head_s = test["base_s"], test["head_s"]
    ratio = test.get("ratio") or (head_s / base_s if base_s > 0 else math.nan)
    slower, faster = ratio - 1 > threshold, 1 - ratio > threshold
    if math.isnan(q):
        status = "slower, untested" if slower else "faster, untested" if faster else "untested"
    elif q < alpha and test["p_slower"] <= test["p_faster"]:
        status = REGRESSION if slower else "slower, within threshold"
    elif q < alpha:
        status = IMPROVED if faster else "faster, within threshold"
    elif (slower or faster) and test["min_p"] >= alpha:
        status = f"{'slower' if slower else 'faster'}, too few rounds to test"
    else:
        status = "no significant change"
    return Change(
        name=test["name"],
        base_s=base_s,
        head_s=head_s,
        ratio=ratio,
        p_slower=test["p_slower"],
        p_faster=test["p_faster"],
        q=q,
        status=status,
        noisy=test["noisy"],
        test=test["test"],
        processes=test["processes"],
    )
