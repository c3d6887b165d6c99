"""The report's numbers: one numeric DataFrame per question, derived from the tidy results frame.

Every function takes the frame of `frames.results_frame` and returns a new frame of plain
numbers (seconds, ratios, fractions); an empty frame when the records to answer it are absent.
Formatting and figures live in `sections` and `plots`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from tf2bench.records.stats import ratio_ci
from tf2bench.report.frames import PARAM_PREFIX, column, identity_key

__all__ = [
    "cold_vs_steady",
    "consumer_bound",
    "device_speedups",
    "distribute_scaling",
    "execution_speedups",
    "log_range",
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


def _family(frame: pd.DataFrame, family: str) -> pd.DataFrame:
    return frame[frame["family"] == family]


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
    cis = [
        ratio_ci(
            row[f"process_samples{numerator}"],
            row[f"process_samples{denominator}"],
            numerator_median=row[f"median_s{numerator}"],
            denominator_median=row[f"median_s{denominator}"],
            resamples=resamples,
        )
        for row in paired.to_dict("records")
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
    execution = _with_config(_family(frame, "execution"), EXECUTION_KNOWN_PARAMS)
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
    execution = _with_config(_family(frame, "execution"), EXECUTION_KNOWN_PARAMS)
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
    execution = _family(frame, "execution")
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


def _variant(rows: pd.DataFrame) -> pd.Series:
    """params.variant (else the parameter id), made unique within a source, device, batch size
    and workload by the params that tell the clashing rows apart (e.g. `iteration=python`)."""
    labels = column(rows, "param_variant", None).fillna(rows["label"]).astype(str)
    params = [c for c in rows.columns if c.startswith(PARAM_PREFIX) and c != "param_variant"]
    scope = ["source", "device", "batch_size", "workload"]
    clashes = rows.assign(_label=labels).groupby([*scope, "_label"], dropna=False)["_label"]
    for _, index in clashes.groups.items():
        if len(index) < 2:
            continue
        differing = [c for c in params if rows.loc[index, c].astype(str).nunique(dropna=False) > 1]
        for i in index:
            extra = ", ".join(f"{c.removeprefix(PARAM_PREFIX)}={rows.at[i, c]}" for c in differing)
            labels.at[i] = f"{labels.at[i]} ({extra})" if extra else labels.at[i]
    return labels


def _steps(rows: pd.DataFrame) -> pd.Series:
    """Steps per round: items per round, over the batch size when items are elements/examples."""
    per_element = rows["item_unit"].isin(("elements", "examples")) & rows["batch_size"].gt(0)
    return rows["items_per_round"].where(~per_element, rows["items_per_round"] / rows["batch_size"])


def pipeline_throughput(frame: pd.DataFrame) -> pd.DataFrame:
    """tf.data throughput (elements/s) of every pipeline variant next to the NumPy feed.

    Columns: source, device, batch_size, workload, variant, elements_per_s, batches_per_s,
    limit_per_s (the same source/device/batch's NumPy feed, the `limit` workload: not a bound),
    ratio_to_limit (recorded, else computed), ratio_to_copy_bound (over the memory-copy bound,
    the true upper bound), does_work (a pipeline with a map and a shuffle), first_batch_s, noisy.
    """
    data = _family(frame, "input_pipeline")
    data = data[data["workload"] != "consumer"]
    if data.empty:
        return pd.DataFrame()
    keys = ["source", "device", "batch_size"]
    limits = data[data["workload"] == "limit"].groupby(keys, dropna=False)["throughput_per_s"]
    result = pd.DataFrame(
        {
            "source": data["source"],
            "source_order": data["source_order"],
            "device": data["device"],
            "batch_size": data["batch_size"],
            "workload": data["workload"],
            "variant": _variant(data),
            "elements_per_s": data["throughput_per_s"],
            "batches_per_s": column(data, "metric_batches_per_s"),
            "ratio_to_limit": column(data, "metric_ratio_to_limit"),
            "ratio_to_copy_bound": column(data, "metric_ratio_to_copy_bound"),
            "does_work": _does_work(data),
            "first_batch_s": column(data, "metric_first_batch_s"),
            "noisy": data["noisy"],
        }
    )
    result = result.merge(limits.max().rename("limit_per_s").reset_index(), on=keys, how="left")
    computed = result["elements_per_s"] / result["limit_per_s"]
    result["ratio_to_limit"] = result["ratio_to_limit"].fillna(computed)
    return result.reset_index(drop=True)


def _does_work(data: pd.DataFrame) -> pd.Series:
    """Pipelines that map and shuffle: the only ones a "best variant" may be chosen from."""
    mapped = column(data, "param_map", None).fillna("none") != "none"
    shuffled = pd.to_numeric(column(data, "param_shuffle", None), errors="coerce").fillna(0) > 0
    return (data["workload"] == "pipeline") & mapped & shuffled


def consumer_bound(frame: pd.DataFrame) -> pd.DataFrame:
    """Pipelines feeding a consumer: step time and the input-bound fraction per variant."""
    data = _family(frame, "input_pipeline")
    data = data[data["workload"] == "consumer"]
    if data.empty:
        return pd.DataFrame()
    return pd.DataFrame(
        {
            "source": data["source"],
            "device": data["device"],
            "batch_size": data["batch_size"],
            "variant": _variant(data),
            "step_s": data["median_s"] / _steps(data),
            "input_bound_fraction": column(data, "metric_input_bound_fraction"),
            "noisy": data["noisy"],
        }
    ).reset_index(drop=True)


def training_loops(frame: pd.DataFrame) -> pd.DataFrame:
    """Training loops: time per item (step) of each loop variant and epoch."""
    data = _family(frame, "training")
    if data.empty:
        return pd.DataFrame()
    loop = column(data, "param_loop", None).fillna("?").astype(str)
    loop = loop.where(data["mode"].isna(), loop + " " + data["mode"].astype(str))
    spe = pd.to_numeric(column(data, "param_steps_per_execution", None), errors="coerce")
    # steps_per_execution always matters for fit; elsewhere only when it is not the default 1.
    shown = spe.notna() & ((loop.str.startswith("fit")) | (spe != 1))
    loop = loop.where(~shown, loop + " spe=" + spe.map("{:g}".format))
    return pd.DataFrame(
        {
            "source": data["source"],
            "device": data["device"],
            "network": data["workload"],
            "loop": loop,
            "epoch": column(data, "param_epoch", None).fillna("-"),
            "per_item_s": data["median_s"] / _steps(data),
            "item_unit": data["item_unit"].where(data["item_unit"] == "steps", "steps"),
            "noisy": data["noisy"],
        }
    ).reset_index(drop=True)


def saving_ops(frame: pd.DataFrame) -> pd.DataFrame:
    """Saving: time of each export, reload and serving op, and the size on disk."""
    data = _family(frame, "saving")
    if data.empty:
        return pd.DataFrame()
    return pd.DataFrame(
        {
            "source": data["source"],
            "device": data["device"],
            "network": data["workload"],
            "op": column(data, "param_op", None).fillna(data["label"]),
            "style": data["style"],
            "batch_size": data["batch_size"],
            "time_s": data["median_s"] / _steps(data),
            "size_on_disk_bytes": column(data, "metric_size_on_disk_bytes"),
            "noisy": data["noisy"],
        }
    ).reset_index(drop=True)


def distribute_scaling(frame: pd.DataFrame) -> pd.DataFrame:
    """Distribution strategies: replicas, step time, throughput and scaling efficiency."""
    data = _family(frame, "distribute")
    if data.empty:
        return pd.DataFrame()
    return pd.DataFrame(
        {
            "source": data["source"],
            "device": data["device"],
            "network": data["workload"],
            "strategy": column(data, "param_strategy", None).fillna(data["label"]).astype(str),
            "replicas": column(data, "metric_replicas"),
            "step_s": data["median_s"] / _steps(data),
            "throughput_per_s": data["throughput_per_s"],
            "item_unit": data["item_unit"],
            "scaling_efficiency": _scaling_efficiency(data),
            "noisy": data["noisy"],
        }
    ).reset_index(drop=True)


# What must match for a one-replica MirroredStrategy run to be another run's scaling reference.
_SCALING_KEYS = ("source", "device", "workload", "batch_size", "param_steps_per_round")


def _scaling_efficiency(data: pd.DataFrame) -> pd.Series:
    """Throughput over (replicas x the one-replica MirroredStrategy throughput of that run).

    Only mirrored and multi_worker rows have one. Records written before the report computed
    it stored the metric themselves; theirs is kept, so older results render as they did.
    """
    keys = [key for key in (*_SCALING_KEYS, "param_threads") if key in data]
    rows = data.assign(
        _strategy=column(data, "param_strategy", None), _replicas=column(data, "metric_replicas")
    )
    single = rows[(rows["_strategy"] == "mirrored") & (rows["_replicas"] == 1)]
    single = single[[*keys, "throughput_per_s"]].drop_duplicates(keys)
    merged = rows[keys].merge(
        single.rename(columns={"throughput_per_s": "_single"}), on=keys, how="left"
    )
    merged.index = rows.index
    efficiency = rows["throughput_per_s"] / (rows["_replicas"] * merged["_single"])
    efficiency = efficiency.where(rows["_strategy"].isin(("mirrored", "multi_worker")))
    return column(data, "metric_scaling_efficiency").fillna(efficiency)


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


def log_range(values: pd.Series) -> float:
    """max/min of the positive finite values (1 when there are none): when to use log axes."""
    array = np.asarray(values, dtype=float)
    array = array[np.isfinite(array) & (array > 0)]
    return float(array.max() / array.min()) if array.size else 1.0
