"""Version axes: the same benchmarks across TensorFlow releases and Keras 3 vs Keras 2.

Active when the results files come from different environments (fingerprint `tensorflow`,
`keras`, `keras_flavor`), as `tf2bench matrix` writes them. An axis varies one version and
holds the other fixed:

    TensorFlow  per Keras flavor, each newer release against the oldest: ratio = newer / oldest
    Keras       per TensorFlow release, Keras 3 against Keras 2 (tf-keras): ratio = K3 / K2

Benchmarks are matched by pytest id. A ratio above 1 means the first-named environment takes
longer. Intervals: records.stats.ratio_ci over processes when both sides have at least
MIN_PROCESSES; with fewer, its t-widening makes the interval uninformative (x9 for two), so
a bootstrap of the pooled samples is shown instead and the note says so.
No TensorFlow import here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from tf2bench.records.schema import BenchmarkResult, RunResults
from tf2bench.records.stats import RatioCI, geometric_mean, ratio_ci, ratio_of_medians_ci
from tf2bench.report.formatting import fmt_ratio, fmt_ratio_ci, fmt_time
from tf2bench.report.render import Plot, Section, Table
from tf2bench.report.sections.common import CI_NOTE, Result

__all__ = ["Env", "axis_pairs", "env_of", "pair_ratios", "versions_section"]

# The figure shows this many benchmarks per axis, those whose ratio is farthest from 1.
MAX_FIGURE_ROWS = 16
MIN_PROCESSES = 3
POOLED_NOTE = (
    "Fewer than 3 processes per environment: intervals bootstrap the pooled samples and leave "
    "out the spread between processes."
)


@dataclass(frozen=True)
class Env:
    """Which versions ran a results file."""

    tensorflow: str
    keras: str
    flavor: str  # keras3 | tf_keras

    @property
    def label(self) -> str:
        keras = "Keras 3" if self.flavor == "keras3" else "Keras 2"
        return f"TF {self.tensorflow} + {keras} {self.keras}"


def env_of(run: RunResults) -> Env | None:
    tensorflow, keras = run.fingerprint.get("tensorflow"), run.fingerprint.get("keras")
    if not tensorflow or not keras:
        return None
    # Files from before the flavor was recorded ran Keras 3 when keras is 3.x.
    flavor = run.fingerprint.get("keras_flavor") or (
        "keras3" if str(keras).startswith("3.") else "tf_keras"
    )
    return Env(str(tensorflow), str(keras), str(flavor))


def _version_key(version: str) -> tuple:
    return tuple(int(part) if part.isdigit() else 0 for part in version.split("."))


def axis_pairs(envs: Sequence[Env]) -> dict[str, list[tuple[int, int]]]:
    """{axis: [(index of numerator env, index of denominator env)]} over distinct envs."""
    pairs: dict[str, list[tuple[int, int]]] = {"TensorFlow": [], "Keras": []}
    for flavor in dict.fromkeys(env.flavor for env in envs):
        same = [i for i, env in enumerate(envs) if env.flavor == flavor]
        same.sort(key=lambda i: _version_key(envs[i].tensorflow))
        pairs["TensorFlow"] += [(newer, same[0]) for newer in same[1:]]
    for tensorflow in dict.fromkeys(env.tensorflow for env in envs):
        keras3 = [i for i, env in enumerate(envs) if env.tensorflow == tensorflow]
        keras2 = [i for i in keras3 if envs[i].flavor == "tf_keras"]
        keras3 = [i for i in keras3 if envs[i].flavor == "keras3"]
        pairs["Keras"] += [(k3, k2) for k3 in keras3[:1] for k2 in keras2[:1]]
    return {axis: found for axis, found in pairs.items() if found}


def _label(bench: BenchmarkResult) -> str:
    record = bench.record
    params = {k: v for k, v in record.params.items() if k not in ("threads", "keras")}
    extra = " ".join(f"{k}={v}" for k, v in params.items() if k != "phase" or v != "steady")
    return f"{record.label()} {extra}".strip()


def pair_ratios(top: RunResults, bottom: RunResults) -> pd.DataFrame:
    """Benchmarks in both files: family, name, label, top_s, bottom_s, ratio, ci_low, ci_high."""
    below = {bench.fullname: bench for bench in bottom.benchmarks}
    rows = []
    for bench in top.benchmarks:
        other = below.get(bench.fullname)
        if other is None:
            continue
        ci = _ratio(bench, other)
        ratio = ci.ratio if math.isfinite(ci.ratio) else bench.median_s / other.median_s
        rows.append(
            {
                "family": bench.record.family,
                "name": bench.name,
                "label": _label(bench),
                "top_s": bench.median_s,
                "bottom_s": other.median_s,
                "ratio": ratio,
                "ci_low": ci.low,
                "ci_high": ci.high,
                "record": bench.record,
            }
        )
    return pd.DataFrame(rows)


def _ratio(top: BenchmarkResult, bottom: BenchmarkResult) -> RatioCI:
    if min(top.processes, bottom.processes) >= MIN_PROCESSES:
        return ratio_ci(top.process_samples, bottom.process_samples)
    return ratio_of_medians_ci(
        top.samples,
        bottom.samples,
        numerator_median=top.median_s,
        denominator_median=bottom.median_s,
    )


def _figure(axis: str, ratios: pd.DataFrame) -> Figure:
    """Horizontal bars of log2 ratio with intervals, farthest from 1 first."""
    rows = ratios.assign(_far=np.abs(np.log(ratios["ratio"])))
    rows = rows.sort_values("_far", ascending=False).head(MAX_FIGURE_ROWS).iloc[::-1]
    figure = Figure(figsize=(9, 0.35 * len(rows) + 1.6), layout="constrained")
    ax = figure.add_subplot()
    y = np.arange(len(rows))
    colors = ["tab:red" if r > 1 else "tab:green" for r in rows["ratio"]]
    ax.barh(y, rows["ratio"] - 1, left=1, color=colors, alpha=0.75)
    low = (rows["ratio"] - rows["ci_low"]).fillna(0).clip(lower=0)
    high = (rows["ci_high"] - rows["ratio"]).fillna(0).clip(lower=0)
    ax.errorbar(rows["ratio"], y, xerr=[low, high], fmt="none", ecolor="black", capsize=2)
    names = [f"{p} · {label}" for p, label in zip(rows["pair"], rows["label"], strict=True)]
    ax.set_yticks(y, names)
    ax.tick_params(axis="y", labelsize=7)
    ax.set_xscale("log")
    ax.axvline(1, color="gray", linewidth=1)
    ax.set_xlabel("time ratio (log scale; > 1: the first-named environment is slower)")
    ax.set_title(f"{axis} axis: where the versions differ most")
    return figure


def _headline_row(keras: pd.DataFrame) -> pd.Series:
    """The issue's question: Keras 3 `model(x)` on the mlp at the smallest batch vs Keras 2."""
    calls = keras[
        keras["record"].map(
            lambda r: (
                r.family == "model_styles"
                and r.workload == "mlp"
                and r.params.get("op") == "call"
                and r.mode == "eager"
            )
        )
    ]
    if calls.empty:
        return keras.loc[np.abs(np.log(keras["ratio"])).idxmax()]
    batch = calls["record"].map(lambda r: r.batch_size or 0)
    calls = calls[batch == batch.min()]
    functional = calls[calls["record"].map(lambda r: r.style == "functional")]
    return (functional if not functional.empty else calls).iloc[0]


def _headlines(axis: str, pair: str, ratios: pd.DataFrame) -> list[str]:
    gm = geometric_mean(ratios["ratio"])
    far = ratios.loc[np.abs(np.log(ratios["ratio"])).idxmax()]
    lines = [
        f"**{pair}**: {fmt_ratio(gm)} geometric mean time ratio over {len(ratios)} benchmarks; "
        f"farthest from 1: {fmt_ratio_ci(far['ratio'], far['ci_low'], far['ci_high'])} on "
        f"{far['label']}."
    ]
    if axis == "Keras":
        row = _headline_row(ratios)
        lines.append(
            f"**Keras 3 vs Keras 2** ({pair.split(':')[0]}): {row['label']} takes "
            f"{fmt_ratio_ci(row['ratio'], row['ci_low'], row['ci_high'])} the time of Keras 2."
        )
    return lines


def versions_section(runs: Sequence[RunResults], labels: Sequence[str]) -> Result:
    """One section per version axis (TensorFlow, Keras), or None for a single environment."""
    envs = [env_of(run) for run in runs]
    known = [i for i, env in enumerate(envs) if env is not None]
    distinct = {envs[i]: i for i in reversed(known)}  # first file of each environment
    order = sorted(distinct.values())
    if len(order) < 2:
        return None
    pairs = axis_pairs([envs[i] for i in order])
    if not pairs:
        return None
    blocks: list = [
        "The same benchmarks in isolated environments (`tf2bench matrix`). Time ratio = median "
        "in the first-named environment / median in the second; above 1× it is slower. "
        "Environments: " + "; ".join(f"`{labels[i]}` = {envs[i].label}" for i in order) + "."
    ]
    headlines: list[str] = []
    for axis, found in pairs.items():
        frames = []
        for top, bottom in found:
            top_i, bottom_i = order[top], order[bottom]
            pair = f"{envs[top_i].label} vs {envs[bottom_i].label}"
            ratios = pair_ratios(runs[top_i], runs[bottom_i]).assign(pair=pair)
            if ratios.empty:
                continue
            frames.append(ratios)
            headlines += _headlines(axis, pair, ratios)
        if not frames:
            continue
        pooled = any(b.processes < MIN_PROCESSES for i in order for b in runs[i].benchmarks)
        blocks += _axis_blocks(axis, pd.concat(frames, ignore_index=True), pooled)
    if len(blocks) == 1:
        return None
    return Section("Version axes: TensorFlow releases and Keras 3 vs Keras 2", blocks), headlines


def _axis_blocks(axis: str, ratios: pd.DataFrame, pooled: bool) -> list:
    families = (
        ratios.groupby(["pair", "family"], sort=False)["ratio"]
        .agg(geometric_mean=geometric_mean, benchmarks="size")
        .reset_index()
    )
    family_table = pd.DataFrame(
        {
            "environments": families["pair"],
            "family": families["family"],
            "benchmarks": families["benchmarks"].astype(str),
            "geometric mean ratio": families["geometric_mean"].map(fmt_ratio),
        }
    )
    detail = pd.DataFrame(
        {
            "environments": ratios["pair"],
            "family": ratios["family"],
            "benchmark": ratios["label"],
            "first": ratios["top_s"].map(fmt_time),
            "second": ratios["bottom_s"].map(fmt_time),
            "ratio": [
                fmt_ratio_ci(r, lo, hi)
                for r, lo, hi in zip(
                    ratios["ratio"], ratios["ci_low"], ratios["ci_high"], strict=True
                )
            ],
        }
    )
    name = f"versions_{axis.lower()}"
    return [
        f"**{axis} axis.** Geometric mean of the time ratios per family:",
        Table(family_table),
        Plot(name, _figure(axis, ratios), f"{axis} axis: the benchmarks farthest from 1×."),
        Table(detail, f"{CI_NOTE} {POOLED_NOTE if pooled else ''}".strip()),
    ]
