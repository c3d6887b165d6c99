"""The report's per-family figures: one function per figure, each returns a matplotlib Figure.

Every figure has a title, axis labels with units and a legend. Inputs are the numeric frames of
`tf2bench.report.analysis`; several results files share a panel where they fit (told apart by
line style or label). Figures across runs are in `plots_runs`, shared pieces in `axes`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from tf2bench.report.analysis import MODE_ORDER, order_like
from tf2bench.report.axes import (
    grid_panels,
    hbar,
    legend_below,
    log_axis,
    panel_title,
    split_facets,
    stacked_panels,
    time_scale,
)

__all__ = [
    "MAX_SPEEDUP_CASES",
    "cold_start_figure",
    "input_bound_figure",
    "retracing_figure",
    "speedup_figure",
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
