"""The report's numbers: one numeric DataFrame per question, derived from the tidy results frame.

Every function takes the frame of `frames.results_frame` and returns a new frame of plain
numbers (seconds, ratios, fractions); an empty frame when the records to answer it are absent.
Here: benchmarks paired with their reference (execution modes, CPU vs GPU, file vs file) with
bootstrap intervals, and the execution family's cold start and retracing. The families measured
one benchmark per configuration are in `family_frames`, re-exported here so that sections and
tests read every number from this module. Formatting and figures live in `sections` and `plots`.
"""

from __future__ import annotations

import math

import pandas as pd

from tf2bench.records.stats import ratio_ci
from tf2bench.report.family_frames import (
    consumer_bound,
    distribute_scaling,
    pipeline_throughput,
    saving_ops,
    training_loops,
)
from tf2bench.report.frames import PARAM_PREFIX, column, family_rows, identity_key

__all__ = [
    "cold_vs_steady",
    "consumer_bound",
    "device_speedups",
    "distribute_scaling",
    "execution_speedups",
    "order_like",
    "paired_rows",
    "REPORT_RESAMPLES",
    "ratio_columns",
    "pipeline_throughput",
    "retracing",
    "saving_ops",
    "source_ratios",
    "training_loops",
]

REFERENCE_MODE = "eager"
# Bootstrap resamples for the report's many intervals (`tf2bench compare` uses the full count):
# 1,000 is the usual count for a percentile interval that is drawn and printed to 3 digits.
REPORT_RESAMPLES = 1_000
# Execution params that have their own place in the report (phase, the retrace variant).
EXECUTION_KNOWN_PARAMS = ("phase", "variant", "shapes")
MODE_ORDER = ("eager", "autograph", "xla", "session")
STYLE_ORDER = ("lowlevel", "sequential", "functional", "subclassed")
CPU, GPU = "cpu", "gpu"


def order_like(values: pd.Series, preferred: tuple[str, ...]) -> list:
    """The distinct values, `preferred` ones first in that order, then the rest as they came."""
    seen = list(dict.fromkeys(values.dropna()))
    return [v for v in preferred if v in seen] + [v for v in seen if v not in preferred]


def _phase(frame: pd.DataFrame) -> pd.Series:
    return column(frame, "param_phase", None).fillna("steady")


def paired_rows(
    frame: pd.DataFrame, vary: str, reference: str, *, by_test: bool = True
) -> pd.DataFrame:
    """Rows of `frame` joined to the row that differs only in `vary` == reference."""
    keyed = frame.assign(_key=identity_key(frame, (vary,), by_test=by_test))
    base = keyed[keyed[vary] == reference].drop_duplicates("_key")
    other = keyed[(keyed[vary] != reference) & keyed[vary].notna()]
    return other.merge(
        base[["_key", "median_s", "process_samples", "noisy"]], on="_key", suffixes=("", "_ref")
    )


def ratio_columns(
    paired: pd.DataFrame, numerator: str, denominator: str, resamples: int = REPORT_RESAMPLES
) -> pd.DataFrame:
    """Adds ratio = median(numerator) / median(denominator) with ci_low, ci_high over processes."""
    sides = (f"process_samples{numerator}", f"process_samples{denominator}")
    medians = (f"median_s{numerator}", f"median_s{denominator}")
    cis = [
        ratio_ci(top, bottom, numerator_median=a, denominator_median=b, resamples=resamples)
        for top, bottom, a, b in zip(*(paired[c].tolist() for c in (*sides, *medians)), strict=True)
    ]
    return paired.assign(
        ratio=[ci.ratio for ci in cis],
        ci_low=[ci.low for ci in cis],
        ci_high=[ci.high for ci in cis],
    )


def _with_config(rows: pd.DataFrame, exclude: tuple[str, ...]) -> pd.DataFrame:
    """`rows` with params that vary within one file folded into the workload name, so
    configurations this module has no column for (precision=mixed_float16, ...) stay apart."""
    params = [c for c in rows.columns if c.startswith(PARAM_PREFIX)]
    params = [c for c in params if c.removeprefix(PARAM_PREFIX) not in exclude]
    labels = pd.Series("", index=rows.index, dtype=object)
    for _, part in rows.groupby("source", sort=False):
        varying = [c for c in params if part[c].astype(str).nunique(dropna=False) > 1]
        # NOTE: to_numpy has the row values iterrows had (one common dtype), without a Series
        # per row; the labels read the same ("4.0" beside a float column).
        for index, values in zip(part.index, part[varying].to_numpy(), strict=True):
            labels.at[index] = ", ".join(
                f"{c.removeprefix(PARAM_PREFIX)}={value}"
                for c, value in zip(varying, values, strict=True)
                if pd.notna(value)
            )
    workload = rows["workload"].where(labels == "", rows["workload"] + " [" + labels + "]")
    return rows.assign(workload=workload)


def execution_speedups(frame: pd.DataFrame) -> pd.DataFrame:
    """Speedup of every execution mode over eager (eager median / mode median), with a CI.

    Columns: source, device, workload, batch_size, mode, eager_s, mode_s, speedup, ci_low,
    ci_high, noisy (either side noisy), plus the other identity fields.
    """
    execution = _with_config(family_rows(frame, "execution"), EXECUTION_KNOWN_PARAMS)
    steady = execution[_phase(execution) == "steady"]
    if steady.empty or not (steady["mode"] == REFERENCE_MODE).any():
        return pd.DataFrame()
    paired = ratio_columns(paired_rows(steady, "mode", REFERENCE_MODE), "_ref", "")
    result = paired.rename(
        columns={"median_s_ref": "eager_s", "median_s": "mode_s", "ratio": "speedup"}
    ).assign(noisy=lambda df: df["noisy"] | df["noisy_ref"])
    modes = order_like(result["mode"], MODE_ORDER)
    result["mode_rank"] = result["mode"].map({m: i for i, m in enumerate(modes)})
    columns = ["source", "device", "workload", "batch_size", "mode", "eager_s", "mode_s"]
    columns += ["speedup", "ci_low", "ci_high", "noisy", "source_order", "mode_rank"]
    return result[columns].reset_index(drop=True)


def cold_vs_steady(frame: pd.DataFrame) -> pd.DataFrame:
    """First call (cold benchmarks and each steady benchmark's first_call_s) vs steady step.

    Columns: source, device, workload, mode, batch_size, cold_s (median of the phase=cold
    benchmark), first_call_s (recorded by the steady benchmark), steady_s, cold_over_steady.
    """
    execution = _with_config(family_rows(frame, "execution"), EXECUTION_KNOWN_PARAMS)
    phase = _phase(execution)
    keys = ["source", "device", "workload", "mode", "batch_size", "source_order"]
    cold = execution[phase == "cold"][keys + ["median_s"]].rename(columns={"median_s": "cold_s"})
    steady = execution[phase == "steady"][keys + ["median_s", "first_call_s"]]
    steady = steady.rename(columns={"median_s": "steady_s"})
    if cold.empty and steady["first_call_s"].isna().all():
        return pd.DataFrame()
    merged = cold.merge(steady, on=keys, how="outer") if not cold.empty else steady
    if "cold_s" not in merged:
        merged["cold_s"] = math.nan
    first = merged["cold_s"].fillna(merged["first_call_s"])
    merged["cold_over_steady"] = first / merged["steady_s"]
    merged = merged[merged["cold_s"].notna() | merged["first_call_s"].notna()]
    merged["mode_rank"] = merged["mode"].map(
        {m: i for i, m in enumerate(order_like(merged["mode"], MODE_ORDER))}
    )
    merged["workload_rank"] = merged["workload"].map(
        {w: i for i, w in enumerate(dict.fromkeys(execution["workload"]))}
    )
    keys = ["source_order", "device", "workload_rank", "batch_size", "mode_rank"]
    merged = merged.sort_values(keys).drop(columns="workload_rank")
    return merged.reset_index(drop=True)


def retracing(frame: pd.DataFrame) -> pd.DataFrame:
    """Retracing benchmarks: time per sweep over the shapes, per call, and traces per sweep."""
    execution = family_rows(frame, "execution")
    rows = execution[_phase(execution) == "retrace"]
    if rows.empty:
        return pd.DataFrame()
    variant = column(rows, "param_variant", None).fillna(rows["label"])
    return pd.DataFrame(
        {
            "source": rows["source"],
            "device": rows["device"],
            "variant": variant,
            "sweep_s": rows["median_s"],
            "per_call_s": rows["median_s"] / rows["items_per_round"],
            "calls": rows["items_per_round"],
            "tracing_count": rows["tracing_count"],
            "noisy": rows["noisy"],
        }
    ).reset_index(drop=True)


def device_speedups(frame: pd.DataFrame) -> pd.DataFrame:
    """Benchmarks that ran on both CPU and GPU: the GPU speedup (CPU median / GPU median)."""
    if not {CPU, GPU} <= set(frame["device"].dropna()):
        return pd.DataFrame()
    both = frame[frame["device"].isin((CPU, GPU))]
    paired = paired_rows(both, "device", CPU)
    paired = paired[paired["device"] == GPU]
    if paired.empty:
        return pd.DataFrame()
    paired = ratio_columns(paired, "_ref", "")
    return pd.DataFrame(
        {
            "source": paired["source"],
            "family": paired["family"],
            "label": paired["label"].str.replace(f"{GPU}-", "", regex=False),
            "cpu_s": paired["median_s_ref"],
            "gpu_s": paired["median_s"],
            "speedup": paired["ratio"],
            "ci_low": paired["ci_low"],
            "ci_high": paired["ci_high"],
            "noisy": paired["noisy"] | paired["noisy_ref"],
        }
    ).reset_index(drop=True)


def source_ratios(frame: pd.DataFrame) -> pd.DataFrame:
    """Each later file against the first, matched by benchmark: ratio of medians with a CI.

    ratio > 1 means the later file is slower. Columns: name, family, base, other, base_s,
    other_s, ratio, ci_low, ci_high, noisy.
    """
    sources = order_like(frame.sort_values("source_order")["source"], ())
    if len(sources) < 2:
        return pd.DataFrame()
    base = frame[frame["source"] == sources[0]].drop_duplicates("fullname")
    others = frame[frame["source"] != sources[0]].drop_duplicates(["source", "fullname"])
    paired = others.merge(
        base[["fullname", "source", "median_s", "process_samples", "noisy"]],
        on="fullname",
        suffixes=("", "_ref"),
    )
    if paired.empty:
        return pd.DataFrame()
    paired = ratio_columns(paired, "", "_ref")
    return pd.DataFrame(
        {
            "name": paired["name"],
            "family": paired["family"],
            "base": paired["source_ref"],
            "other": paired["source"],
            "base_s": paired["median_s_ref"],
            "other_s": paired["median_s"],
            "ratio": paired["ratio"],
            "ci_low": paired["ci_low"],
            "ci_high": paired["ci_high"],
            "noisy": paired["noisy"] | paired["noisy_ref"],
        }
    ).reset_index(drop=True)
