"""The report's per-family figures: one function per figure, each returns a matplotlib Figure.

Every figure has a title, axis labels with units and a legend. Inputs are the numeric frames of
`tf2bench.report.analysis`; several results files share a panel where they fit (told apart by
line style or label). Figures across runs are in `plots_runs`, shared pieces in `axes`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

from tf2bench.report.analysis import MODE_ORDER, STYLE_ORDER, log_range, order_like
from tf2bench.report.axes import (
    LINE_STYLES,
    grid_panels,
    hbar,
    legend_below,
    log_axis,
    panel_title,
    split_facets,
    stacked_panels,
    time_scale,
)
from tf2bench.report.formatting import fmt_percent, fmt_rate

__all__ = [
    "MAX_SPEEDUP_CASES",
    "cold_start_figure",
    "input_bound_figure",
    "retracing_figure",
    "saving_figure",
    "scaling_figure",
    "speedup_figure",
    "style_facets",
    "style_figure",
    "throughput_figure",
    "training_figure",
]

# Speedup bars show at most this many workload x batch cases per panel (the table has all).
MAX_SPEEDUP_CASES = 36
# The cold-start chart shows at most this many rows per panel (the table has all).
MAX_COLD_ROWS = 40
MODE_COLORS = {
    "eager": "tab:gray",
    "autograph": "tab:blue",
    "xla": "tab:orange",
    "session": "tab:green",
}


def _case_label(workload: str, batch) -> str:
    return workload if pd.isna(batch) else f"{workload} b{batch:g}"


def speedup_figure(speedups: pd.DataFrame) -> Figure:
    """Bars of each mode's speedup over eager per workload and batch, with bootstrap CIs."""
    facets = list(split_facets(speedups, ["source", "device"]))
    figure, axes = grid_panels(len(facets), ncols=1, panel=(11, 3.8))
    for ax, (facet, rows) in zip(axes, facets, strict=True):
        case = rows["workload"] + " b" + rows["batch_size"].map("{:g}".format)
        every = list(dict.fromkeys(case))
        cases = every[:MAX_SPEEDUP_CASES]
        if len(cases) < len(every):
            facet = f"{facet} (first {len(cases)} of {len(every)} cases; the table has all)"
        rows, case = rows[case.isin(cases)], case[case.isin(cases)]
        modes = order_like(rows["mode"], MODE_ORDER)
        width = 0.8 / len(modes)
        for index, mode in enumerate(modes):
            part = rows[rows["mode"] == mode]
            x = [cases.index(name) for name in case[rows["mode"] == mode]]
            offset = (index - (len(modes) - 1) / 2) * width
            errors = [part["speedup"] - part["ci_low"], part["ci_high"] - part["speedup"]]
            ax.bar(
                np.array(x) + offset,
                part["speedup"],
                width,
                label=mode,
                color=MODE_COLORS.get(mode),
                yerr=np.nan_to_num(np.array(errors)),
                capsize=2,
            )
        ax.axhline(1.0, color="black", linewidth=1, linestyle="--", label="eager (1×)")
        labels = [name.removesuffix(" bnan") for name in cases]
        ax.set_xticks(range(len(cases)), labels, fontsize=8, rotation=30, ha="right")
        log_axis(ax, "y")
        ax.set_ylabel("speedup over eager (×, log)")
        panel_title(ax, "Steady-state speedup over eager (95% bootstrap CI)", facet)
        ax.grid(axis="y", which="both", alpha=0.3)
    legend_below(figure, axes)
    return figure


def cold_start_figure(cold: pd.DataFrame) -> Figure:
    """Per workload and mode: the first call (trace + compile + run) and the steady step."""
    rows = cold.assign(first_s=cold["cold_s"].fillna(cold["first_call_s"]))
    facets = [(t, part.head(MAX_COLD_ROWS)) for t, part in split_facets(rows, ["source", "device"])]
    tallest = max(len(part) for _, part in facets)
    figure, axes = grid_panels(len(facets), ncols=2, panel=(6.4, 0.28 * tallest + 1.2))
    factor, unit = time_scale(pd.concat([rows["first_s"], rows["steady_s"]]))
    for ax, (facet, part) in zip(axes, facets, strict=True):
        y = np.arange(len(part))
        labels = [
            f"{_case_label(w, b)} · {m}"
            for w, b, m in zip(part["workload"], part["batch_size"], part["mode"], strict=True)
        ]
        ax.hlines(y, part["steady_s"] * factor, part["first_s"] * factor, color="lightgray")
        ax.scatter(part["steady_s"] * factor, y, color="tab:green", label="steady step", zorder=2)
        dedicated = part["cold_s"].notna().to_numpy()
        ax.scatter(
            part["first_s"][dedicated] * factor,
            y[dedicated],
            color="tab:red",
            label="first call (median of the cold-start benchmark)",
            zorder=2,
        )
        ax.scatter(
            part["first_s"][~dedicated] * factor,
            y[~dedicated],
            facecolors="white",
            edgecolors="tab:red",
            label="first call (the one recorded call)",
            zorder=2,
        )
        ax.set_yticks(y, labels, fontsize=8)
        ax.invert_yaxis()
        log_axis(ax, "x")
        ax.set_xlabel(f"time per call ({unit}, log)")
        panel_title(ax, "Cold start vs steady state", facet)
        ax.grid(axis="x", alpha=0.3)
    legend_below(figure, axes)
    return figure


def retracing_figure(retrace: pd.DataFrame) -> Figure:
    """Time per shape sweep and traces per sweep for each tf.function configuration."""
    figure, (time_ax, trace_ax) = grid_panels(2, ncols=2, panel=(5.6, 3.6))
    factor, unit = time_scale(retrace["sweep_s"])
    facets = list(split_facets(retrace, ["source", "device"]))
    variants = list(dict.fromkeys(retrace["variant"]))
    width = 0.8 / len(facets)
    for index, (facet, rows) in enumerate(facets):
        rows = rows.drop_duplicates("variant").set_index("variant").reindex(variants)
        x = np.arange(len(variants)) + (index - (len(facets) - 1) / 2) * width
        time_ax.bar(x, rows["sweep_s"] * factor, width, label=facet or "run", color=f"C{index}")
        trace_ax.bar(x, rows["tracing_count"], width, label=facet or "run", color=f"C{index}")
    calls = int(retrace["calls"].max())
    for ax, ylabel, heading in (
        (time_ax, f"time per sweep of {calls} shapes ({unit})", "Retracing: time per sweep"),
        (trace_ax, "traces per sweep (count)", "Retracing: traces per sweep"),
    ):
        ax.set_xticks(range(len(variants)), variants, fontsize=8)
        ax.set_ylabel(ylabel)
        ax.set_title(heading, fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    legend_below(figure, [time_ax])
    return figure


def throughput_figure(pipelines: pd.DataFrame) -> Figure:
    """tf.data elements/s of every pipeline variant, with the NumPy feed as a line."""
    facets = [
        (facet, rows[rows["workload"] != "limit"], rows["limit_per_s"].dropna())
        for facet, rows in split_facets(pipelines, ["source", "device", "batch_size"])
    ]
    figure, axes = stacked_panels([(facet, bars) for facet, bars, _ in facets], width=10)
    for ax, (facet, bars, limit) in zip(axes, facets, strict=True):
        labels = [
            v if w == "pipeline" else f"{w}: {v}"
            for w, v in zip(bars["workload"], bars["variant"], strict=True)
        ]
        hbar(ax, labels, bars["elements_per_s"], color="tab:blue", label="pipeline variant")
        for y, (rate, ratio) in enumerate(
            zip(bars["elements_per_s"], bars["ratio_to_limit"], strict=True)
        ):
            if np.isfinite(ratio):
                ax.annotate(
                    fmt_percent(ratio),
                    (rate, y),
                    xytext=(3, 0),
                    textcoords="offset points",
                    va="center",
                    fontsize=7,
                )
        if not limit.empty:
            ax.axvline(
                limit.iloc[0], color="tab:red", linestyle="--", label="NumPy feed (not a bound)"
            )
        # Far-off pipelines (a few % of the NumPy feed) vanish on a linear axis.
        logarithmic = log_range(pd.concat([bars["elements_per_s"], limit])) > 20
        if logarithmic:
            log_axis(ax, "x")
        ax.margins(x=0.12)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: fmt_rate(value)[:-2]))
        scale = ", log" if logarithmic else ""
        ax.set_xlabel(f"throughput (elements/s{scale}; labels: share of the NumPy feed)")
        panel_title(ax, "tf.data throughput", facet)
        ax.grid(axis="x", alpha=0.3)
    legend_below(figure, axes)
    return figure


def input_bound_figure(consumer: pd.DataFrame) -> Figure:
    """Fraction of each consumer step spent waiting for the next batch, per pipeline variant."""
    facets = list(split_facets(consumer, ["source", "device", "batch_size"]))
    figure, axes = stacked_panels(facets, width=9)
    for ax, (facet, rows) in zip(axes, facets, strict=True):
        hbar(
            ax,
            list(rows["variant"]),
            rows["input_bound_fraction"],
            color="tab:purple",
            label="time waiting for input",
        )
        ax.set_xlim(0, 1)
        ax.xaxis.set_major_formatter(PercentFormatter(1.0))
        ax.set_xlabel("input-bound fraction of step time (%)")
        panel_title(ax, "Input-bound fraction", facet)
        ax.grid(axis="x", alpha=0.3)
    legend_below(figure, axes)
    return figure


def style_figure(styles: pd.DataFrame, value: str) -> Figure:
    """Time vs batch size for each model-building style, one panel per op, log-log axes.

    Args:
        styles: `analysis.style_times` rows.
        value: "step_s" (per-step time) or "per_sample_s" (step time over batch size).
    """
    batched = styles[styles["batch_size"].notna()]
    facets = style_facets(styles)
    figure, axes = grid_panels(len(facets), ncols=4, panel=(4.2, 3.2))
    factor, unit = time_scale(batched[value])
    what = "per-step time" if value == "step_s" else "per-sample time"
    sources = list(dict.fromkeys(batched["source"]))
    for ax, (facet, rows) in zip(axes, facets, strict=True):
        for index, source in enumerate(sources):
            for color, style in enumerate(order_like(rows["style"], STYLE_ORDER)):
                line = rows[(rows["style"] == style) & (rows["source"] == source)]
                label = style if len(sources) == 1 else f"{style} · {source}"
                ax.plot(
                    line["batch_size"],
                    line[value] * factor,
                    marker="o",
                    markersize=4,
                    color=f"C{color}",
                    linestyle=LINE_STYLES[index % len(LINE_STYLES)],
                    label=label,
                )
        log_axis(ax, "x")
        log_axis(ax, "y")
        batches = sorted(rows["batch_size"].unique())
        ax.set_xticks(batches, [f"{b:g}" for b in batches])
        ax.set_xlabel("batch size (examples, log)")
        ax.set_ylabel(f"{what} ({unit}, log)")
        ax.set_title(facet, fontsize=9)
        ax.grid(which="major", alpha=0.3)
    figure.suptitle(f"Model styles: {what} vs batch size")
    legend_below(figure, axes, ncols=4)
    return figure


def style_facets(styles: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """The (device, network, op, mode) panels of the style figures: those with a curve, that
    is with at least two batch sizes (first calls and builds have one or none)."""
    batched = styles[styles["batch_size"].notna()]
    return [
        (facet, rows)
        for facet, rows in split_facets(batched, ["device", "network", "op", "mode"])
        if rows["batch_size"].nunique() > 1
    ]


def training_figure(training: pd.DataFrame) -> Figure:
    """Time per step of each training loop, first epoch next to later ones."""
    facets = list(split_facets(training, ["source", "device", "network"]))
    figure, axes = grid_panels(
        len(facets), ncols=2, panel=(6.0, 0.45 * training["loop"].nunique() + 1.3)
    )
    factor, unit = time_scale(training["per_item_s"])
    for ax, (facet, rows) in zip(axes, facets, strict=True):
        loops = list(dict.fromkeys(rows["loop"]))
        epochs = list(dict.fromkeys(rows["epoch"]))
        height = 0.8 / len(epochs)
        for index, epoch in enumerate(epochs):
            part = (
                rows[rows["epoch"] == epoch]
                .drop_duplicates("loop")
                .set_index("loop")
                .reindex(loops)
            )
            y = np.arange(len(loops)) + (index - (len(epochs) - 1) / 2) * height
            ax.barh(
                y, part["per_item_s"] * factor, height, label=f"epoch: {epoch}", color=f"C{index}"
            )
        ax.set_yticks(range(len(loops)), loops, fontsize=8)
        ax.invert_yaxis()
        item = str(rows["item_unit"].iloc[0]).removesuffix("s") or "item"
        ax.set_xlabel(f"time per {item} ({unit})")
        panel_title(ax, "Training loops", facet)
        ax.grid(axis="x", alpha=0.3)
    legend_below(figure, axes)
    return figure


def saving_figure(saving: pd.DataFrame) -> Figure:
    """Export, reload and serving time per op, log scale (serving is ~1000x faster than export)."""
    facets = list(split_facets(saving, ["source", "device", "network"]))
    tallest = max(len(rows) for _, rows in facets)
    figure, axes = grid_panels(len(facets), ncols=2, panel=(6.4, 0.32 * tallest + 1.3))
    factor, unit = time_scale(saving["time_s"])
    for ax, (facet, rows) in zip(axes, facets, strict=True):
        labels = [
            " · ".join(
                str(part)
                for part in (op, style, f"b{batch:g}" if pd.notna(batch) else None)
                if part is not None and not (isinstance(part, float) and math.isnan(part))
            )
            for op, style, batch in zip(rows["op"], rows["style"], rows["batch_size"], strict=True)
        ]
        hbar(ax, labels, rows["time_s"] * factor, color="tab:cyan", label="median time")
        log_axis(ax, "x")
        ax.set_xlabel(f"time per call ({unit}, log)")
        panel_title(ax, "Saving and serving", facet)
        ax.grid(axis="x", which="major", alpha=0.3)
    legend_below(figure, axes)
    return figure


def scaling_figure(scaling: pd.DataFrame) -> Figure:
    """Per network: throughput and scaling efficiency vs replicas per strategy, with the ideal.

    Strategies are told apart by colour, results files by line style.
    """
    rows = scaling[scaling["replicas"].notna()]
    facets = list(split_facets(rows, ["device", "network"]))
    figure, axes = grid_panels(2 * len(facets), ncols=2, panel=(5.8, 3.6))
    strategies = list(dict.fromkeys(rows["strategy"]))
    sources = list(dict.fromkeys(rows["source"]))
    for index, (facet, part) in enumerate(facets):
        speed_ax, eff_ax = axes[2 * index], axes[2 * index + 1]
        for (source, strategy), line in part.groupby(["source", "strategy"], sort=False):
            line = line.sort_values("replicas")
            style = {
                "marker": "o",
                "color": f"C{strategies.index(strategy)}",
                "linestyle": LINE_STYLES[sources.index(source) % len(LINE_STYLES)],
                "label": strategy if len(sources) == 1 else f"{strategy} · {source}",
            }
            speed_ax.plot(line["replicas"], line["throughput_per_s"], **style)
            eff_ax.plot(line["replicas"], line["scaling_efficiency"], **style)
        replicas = np.array(sorted(part["replicas"].unique()))
        single = part[part["replicas"] == 1]["throughput_per_s"]
        if not single.empty:
            speed_ax.plot(
                replicas,
                replicas * single.max(),
                color="black",
                linestyle=":",
                label="linear scaling from the best single replica",
            )
        eff_ax.axhline(1.0, color="black", linestyle=":")
        unit = part["item_unit"].iloc[0]
        speed_ax.set_ylabel(f"throughput ({unit}/s)")
        speed_ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: fmt_rate(value)[:-2]))
        panel_title(speed_ax, "Throughput vs replicas", facet)
        eff_ax.set_ylabel("scaling efficiency (% of linear)")
        eff_ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        panel_title(eff_ax, "Scaling efficiency vs replicas", facet)
        for ax in (speed_ax, eff_ax):
            ax.set_xticks(replicas, [f"{r:g}" for r in replicas])
            ax.set_xlabel("replicas (count)")
            ax.grid(alpha=0.3)
    legend_below(figure, axes, ncols=3)
    return figure
