"""The numbers of the families measured one benchmark per configuration: tf.data pipelines,
training loops, saving and distribution strategies.

Each function takes the frame of `frames.results_frame` and returns a new frame of plain numbers
(seconds, items per second, fractions), one row per benchmark and no pairing between them; an
empty frame when the family is absent. `tf2bench.report.analysis` re-exports them.
"""

from __future__ import annotations

import pandas as pd

from tf2bench.report.frames import PARAM_PREFIX, column, family_rows

__all__ = [
    "consumer_bound",
    "distribute_scaling",
    "pipeline_throughput",
    "saving_ops",
    "training_loops",
]


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
    data = family_rows(frame, "input_pipeline")
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
    data = family_rows(frame, "input_pipeline")
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
    data = family_rows(frame, "training")
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
    data = family_rows(frame, "saving")
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
    data = family_rows(frame, "distribute")
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
