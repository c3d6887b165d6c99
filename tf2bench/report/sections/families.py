"""Report sections of the other families: tf.data, model styles, training, saving, distribute."""

from __future__ import annotations

import pandas as pd

from tf2bench.report import analysis, plots
from tf2bench.report.formatting import (
    NOISY_MARK,
    fmt_bytes,
    fmt_count,
    fmt_percent,
    fmt_rate,
    fmt_ratio,
    fmt_time,
    fmt_value,
)
from tf2bench.report.render import Plot, Section, Table
from tf2bench.report.sections.common import (
    NOISE_NOTE,
    Columns,
    Result,
    cells,
    first_source,
    lead_columns,
)

__all__ = [
    "distribute_section",
    "pipeline_section",
    "saving_section",
    "styles_section",
    "training_section",
]


def pipeline_section(frame: pd.DataFrame, multi: bool) -> Result:
    """tf.data throughput against the copy bound and the NumPy feed; input-bound consumers."""
    pipes, consumer = analysis.pipeline_throughput(frame), analysis.consumer_bound(frame)
    if pipes.empty and consumer.empty:
        return None
    blocks: list = [
        'Throughput of each `tf.data` variant in elements/s. "Of copy bound" divides it by '
        "the upper bound on any pipeline: the machine's memory-copy bandwidth for the same "
        'bytes on all cores (measured with NumPy in the same run). "Of NumPy feed" divides it '
        "by the same bytes sliced batch by batch from NumPy in Python, a reference point that "
        "pipelines can beat, not a limit."
    ]
    headlines = []
    if not pipes.empty:
        columns: Columns = {
            **lead_columns(multi),
            "batch": lambda r: fmt_value(r["batch_size"]),
            "variant": lambda r: (
                r["variant"] if r["workload"] == "pipeline" else f"{r['workload']}: {r['variant']}"
            ),
            "elements/s": lambda r: (
                fmt_rate(r["elements_per_s"]) + (f" {NOISY_MARK}" if r["noisy"] else "")
            ),
            "batches/s": lambda r: fmt_rate(r["batches_per_s"]),
            "of copy bound": lambda r: fmt_percent(r["ratio_to_copy_bound"]),
            "of NumPy feed": lambda r: fmt_percent(r["ratio_to_limit"]),
            "first batch": lambda r: fmt_time(r["first_batch_s"]),
        }
        blocks += [
            Plot(
                "tfdata_throughput",
                plots.throughput_figure(pipes),
                "tf.data throughput per variant; dashed: the NumPy feed (not a bound); labels: "
                "share of the NumPy feed.",
            ),
            Table(cells(pipes, columns), NOISE_NOTE),
        ]
        # Only pipelines that map and shuffle compete: one without them does less work.
        ranked = first_source(pipes[pipes["does_work"]]).dropna(subset=["ratio_to_limit"])
        if not ranked.empty:
            best = ranked.loc[ranked["elements_per_s"].idxmax()]
            worst = ranked.loc[ranked["elements_per_s"].idxmin()]
            bound = best["ratio_to_copy_bound"]
            share = "" if pd.isna(bound) else f", {fmt_percent(bound)} of the memory-copy bound"
            headlines.append(
                f"**tf.data**: of the pipelines that map and shuffle, the fastest is "
                f"`{best['variant']}` at {fmt_rate(best['elements_per_s'])} elements "
                f"(batch {fmt_value(best['batch_size'])}{share}); the slowest, "
                f"`{worst['variant']}`, {fmt_rate(worst['elements_per_s'])}."
            )
    if not consumer.empty:
        columns = {
            **lead_columns(multi),
            "batch": lambda r: fmt_value(r["batch_size"]),
            "variant": lambda r: r["variant"],
            "step time": lambda r: fmt_time(r["step_s"], r["noisy"]),
            "input-bound": lambda r: fmt_percent(r["input_bound_fraction"]),
        }
        blocks += [
            Plot(
                "tfdata_input_bound",
                plots.input_bound_figure(consumer),
                "Share of each consumer step spent waiting for input (lower is better).",
            ),
            Table(cells(consumer, columns), NOISE_NOTE),
        ]
        ranked = first_source(consumer).dropna(subset=["input_bound_fraction"])
        if not ranked.empty:
            low = ranked.loc[ranked["input_bound_fraction"].idxmin()]
            high = ranked.loc[ranked["input_bound_fraction"].idxmax()]
            headlines.append(
                "**Input-bound fraction** with a consumer: "
                f"{fmt_percent(high['input_bound_fraction'])} for `{high['variant']}`, down to "
                f"{fmt_percent(low['input_bound_fraction'])} for `{low['variant']}`."
            )
    return Section("Input pipelines (tf.data)", blocks), headlines


def styles_section(frame: pd.DataFrame, multi: bool) -> Result:
    """Per-step and per-sample time of the four model-building styles vs batch size."""
    styles = analysis.style_times(frame)
    if styles.empty:
        return None
    keys = ["source", "device", "network", "op", "mode", "batch_size"]
    wide = styles.pivot_table(
        index=keys,
        columns="style",
        values=["step_s", "per_sample_s"],
        aggfunc="first",
        dropna=False,
        sort=False,
    )
    wide = wide.dropna(how="all").reset_index()
    wide.columns = [f"{c[0]}|{c[1]}" if c[1] else c[0] for c in wide.columns]
    blocks: list = [
        "The same network built four ways. Per-sample time is step time over batch size: "
        "where it stops falling, fixed per-call overhead stops dominating."
    ]
    if plots.style_facets(styles):
        blocks += [
            Plot(
                "styles_per_step",
                plots.style_figure(styles, "step_s"),
                "Per-step time vs batch size for each style (log-log).",
            ),
            Plot(
                "styles_per_sample",
                plots.style_figure(styles, "per_sample_s"),
                "Per-sample time vs batch size for each style (log-log).",
            ),
        ]
    for value, heading in (("step_s", "per-step time"), ("per_sample_s", "per-sample time")):
        columns: Columns = {
            **lead_columns(multi),
            "network": lambda r: r["network"],
            "op": lambda r: r["op"],
            "mode": lambda r: fmt_value(r["mode"]),
            "batch": lambda r: fmt_value(r["batch_size"]),
        }
        for style in analysis.order_like(styles["style"], analysis.STYLE_ORDER):
            columns[style] = lambda r, key=f"{value}|{style}": fmt_time(r.get(key))
        blocks.append(Table(cells(wide, columns), f"Model styles: {heading} per style."))
    return Section("Model styles", blocks), _styles_headlines(first_source(styles))


def _styles_headlines(styles: pd.DataFrame) -> list[str]:
    batched = styles[styles["batch_size"].notna()]
    if batched.empty:
        return []
    smallest = batched[batched["batch_size"] == batched["batch_size"].min()]
    headlines = []
    spread = smallest.groupby(["network", "op", "mode"], dropna=False, sort=False)["step_s"]
    ratios = (spread.max() / spread.min()).dropna()
    if not ratios.empty:
        network, op, mode = ratios.idxmax()
        rows = smallest[(smallest["network"] == network) & (smallest["op"] == op)]
        rows = rows[rows["mode"].isna()] if pd.isna(mode) else rows[rows["mode"] == mode]
        fastest, slowest = rows.loc[rows["step_s"].idxmin()], rows.loc[rows["step_s"].idxmax()]
        headlines.append(
            f"**Model styles** at batch {smallest['batch_size'].iloc[0]:g}: up to "
            f"{fmt_ratio(ratios.max())} apart (`{op}` on `{network}`: {fastest['style']} "
            f"{fmt_time(fastest['step_s'])}, {slowest['style']} {fmt_time(slowest['step_s'])})."
        )
    ops = smallest.groupby("op")["step_s"].median()
    if {"predict", "call"} <= set(ops.index):
        ratio = fmt_ratio(ops["predict"] / ops["call"])
        headlines.append(
            f"**`predict` vs `model(x)`** on one small batch: {ratio} the time (median over "
            "styles and networks)."
        )
    return headlines


def training_section(frame: pd.DataFrame, multi: bool) -> Result:
    """Time per step of `fit` and custom loops, first epoch vs later ones."""
    loops = analysis.training_loops(frame)
    if loops.empty:
        return None
    columns: Columns = {
        **lead_columns(multi),
        "network": lambda r: r["network"],
        "loop": lambda r: r["loop"],
        "epoch": lambda r: fmt_value(r["epoch"]),
        "time per item": lambda r: fmt_time(r["per_item_s"], r["noisy"]),
        "item": lambda r: r["item_unit"],
    }
    section = Section(
        "Training loops",
        [
            Plot("training_loops", plots.training_figure(loops), "Time per step of each loop."),
            Table(cells(loops, columns), NOISE_NOTE),
        ],
    )
    rows = first_source(loops)
    later = rows[rows["epoch"] != "first"]
    later = later if not later.empty else rows
    fast, slow = later.loc[later["per_item_s"].idxmin()], later.loc[later["per_item_s"].idxmax()]
    return section, [
        f"**Training loops**: fastest `{fast['loop']}` at {fmt_time(fast['per_item_s'])} per "
        f"step, slowest `{slow['loop']}` at {fmt_time(slow['per_item_s'])}."
    ]


def saving_section(frame: pd.DataFrame, multi: bool) -> Result:
    """Export and reload time, size on disk, and serving the reloaded vs the live model."""
    saving = analysis.saving_ops(frame)
    if saving.empty:
        return None
    columns: Columns = {
        **lead_columns(multi),
        "network": lambda r: r["network"],
        "op": lambda r: r["op"],
        "style": lambda r: fmt_value(r["style"]),
        "batch": lambda r: fmt_value(r["batch_size"]),
        "time per call": lambda r: fmt_time(r["time_s"], r["noisy"]),
        "size on disk": lambda r: fmt_bytes(r["size_on_disk_bytes"]),
    }
    section = Section(
        "Saving and serving",
        [
            Plot("saving", plots.saving_figure(saving), "Export, reload and serving time per op."),
            Table(cells(saving, columns), NOISE_NOTE),
        ],
    )
    # Headline: the median over styles and batch sizes of each op.
    ops = first_source(saving).groupby("op", sort=False)["time_s"].median()
    parts = [f"`{op}` {fmt_time(ops[op])}" for op in ops.index if "serve" not in str(op)]
    if {"serve_reloaded", "serve_live"} <= set(ops.index):
        ratio = fmt_ratio(ops["serve_reloaded"] / ops["serve_live"])
        parts.append(f"serving the reloaded model takes {ratio} the live model's time")
    return section, ["**Saving**: " + "; ".join(parts) + "."] if parts else []


def _rate(value: float, unit: str) -> str:
    """433951, "examples" -> "434k examples/s"."""
    return fmt_rate(value).replace("/s", f" {unit}/s")


def distribute_section(frame: pd.DataFrame, multi: bool) -> Result:
    """Distribution strategies: the scaling curve over replicas."""
    scaling = analysis.distribute_scaling(frame)
    if scaling.empty:
        return None
    columns: Columns = {
        **lead_columns(multi),
        "network": lambda r: r["network"],
        "strategy": lambda r: r["strategy"],
        "replicas": lambda r: fmt_count(r["replicas"]),
        "step time": lambda r: fmt_time(r["step_s"], r["noisy"]),
        "throughput": lambda r: _rate(r["throughput_per_s"], r["item_unit"]),
        "scaling efficiency": lambda r: fmt_percent(r["scaling_efficiency"]),
    }
    blocks: list = []
    if scaling["replicas"].notna().any():
        blocks.append(
            Plot(
                "distribute_scaling",
                plots.scaling_figure(scaling),
                "Throughput and scaling efficiency vs replicas; dotted: linear scaling.",
            )
        )
    blocks.append(Table(cells(scaling, columns), NOISE_NOTE))
    headlines = []
    widest = first_source(scaling).dropna(subset=["replicas", "scaling_efficiency"])
    if not widest.empty:
        top = widest.loc[widest["replicas"].idxmax()]
        headlines.append(
            f"**Scaling**: `{top['strategy']}` on {fmt_count(top['replicas'])} replicas runs at "
            f"{fmt_percent(top['scaling_efficiency'])} scaling efficiency "
            f"({_rate(top['throughput_per_s'], top['item_unit'])})."
        )
    return Section("Distribution and scaling", blocks), headlines
