"""Figures across runs and families: CPU vs GPU, runs side by side, latency distributions.

One function per figure, each returns a matplotlib Figure; inputs are the frames of
`tf2bench.report.analysis` (or the tidy frame, for the raw-sample distributions).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib import cbook
from matplotlib.figure import Figure

from tf2bench.report.analysis import log_range
from tf2bench.report.axes import (
    grid_panels,
    legend_below,
    log_axis,
    split_facets,
    time_scale,
)

__all__ = [
    "GROUPS_PER_FIGURE",
    "MAX_BAR_ROWS",
    "MAX_DISTRIBUTION_FIGURES",
    "device_figure",
    "distribution_figures",
    "source_ratio_figure",
]

# Ratio bar charts show at most this many rows (the largest changes); the tables show all.
MAX_BAR_ROWS = 40
# Latency distributions: groups per figure, and figures at most (the tables cover the rest).
GROUPS_PER_FIGURE = 12
MAX_DISTRIBUTION_FIGURES = 3
# A panel whose medians span more than this factor gets a log time axis.
LOG_AXIS_RANGE = 3.0


def _ratio_bars(rows: pd.DataFrame, labels: list[str], title: str, xlabel: str) -> Figure:
    """Bars from 1× to each ratio (green above, red below) with CIs, on a log axis."""
    figure = Figure(figsize=(10, 0.26 * len(rows) + 1.8), layout="constrained")
    ax = figure.subplots()
    ratios = rows["ratio"].to_numpy(dtype=float)
    errors = np.nan_to_num(np.array([ratios - rows["ci_low"], rows["ci_high"] - ratios]))
    y = np.arange(len(rows))
    for better, color, label in ((True, "tab:green", "faster"), (False, "tab:red", "slower")):
        chosen = (ratios >= 1) == better
        ax.barh(
            y[chosen],
            ratios[chosen] - 1,
            left=1,
            color=color,
            label=label,
            xerr=errors[:, chosen],
            capsize=2,
        )
    ax.set_yticks(y, labels, fontsize=8)
    ax.invert_yaxis()
    ax.axvline(1.0, color="black", linewidth=1)
    log_axis(ax, "x")
    ax.set_xlabel(xlabel)
    ax.set_title(title, fontsize=10)
    ax.grid(axis="x", which="both", alpha=0.3)
    legend_below(figure, [ax])
    return figure


def _most_changed(rows: pd.DataFrame) -> pd.DataFrame:
    if len(rows) <= MAX_BAR_ROWS:
        return rows
    order = np.argsort(-np.abs(np.log(rows["ratio"].to_numpy(dtype=float))))
    return rows.iloc[np.sort(order[:MAX_BAR_ROWS])]


def device_figure(devices: pd.DataFrame) -> Figure:
    """GPU speedup over CPU (CPU median / GPU median) per benchmark, with bootstrap CIs."""
    rows = _most_changed(devices.rename(columns={"speedup": "ratio"}))
    labels = [
        f"{family}: {label}" for family, label in zip(rows["family"], rows["label"], strict=True)
    ]
    if devices["source"].nunique() > 1:
        labels = [f"{run}: {label}" for run, label in zip(rows["source"], labels, strict=True)]
    shown = "" if len(rows) == len(devices) else f"\n({len(rows)} largest of {len(devices)})"
    return _ratio_bars(
        rows,
        labels,
        f"GPU speedup over CPU, 95% bootstrap CI{shown}",
        "GPU speedup (CPU time / GPU time, ×, log)",
    )


def source_ratio_figure(ratios: pd.DataFrame) -> Figure:
    """Each file's speed relative to the first file's per benchmark (> 1× means faster)."""
    rows = _most_changed(ratios).copy()
    rows["ratio"] = 1 / rows["ratio"]  # time ratio -> speed ratio, so longer green bars = faster
    rows["ci_low"], rows["ci_high"] = 1 / rows["ci_high"], 1 / rows["ci_low"]
    base = ratios["base"].iloc[0]
    labels = [f"{other}: {name}" for other, name in zip(rows["other"], rows["name"], strict=True)]
    shown = "" if len(rows) == len(ratios) else f"\n({len(rows)} largest changes of {len(ratios)})"
    return _ratio_bars(
        rows,
        labels,
        f"Speed relative to {base}, 95% bootstrap CI{shown}",
        f"speed relative to {base} (its time / this time, ×, log)",
    )


def distribution_figures(frame: pd.DataFrame) -> list[Figure]:
    """Box plots of the raw samples, one panel per benchmark group, several figures if needed."""
    rows = frame[frame["samples"].notna()]
    multi = rows["source"].nunique() > 1
    groups = list(split_facets(rows, ["group"]))[: GROUPS_PER_FIGURE * MAX_DISTRIBUTION_FIGURES]
    figures = []
    for start in range(0, len(groups), GROUPS_PER_FIGURE):
        page = groups[start : start + GROUPS_PER_FIGURE]
        tallest = max(len(part) for _, part in page)
        figure, axes = grid_panels(len(page), ncols=3, panel=(5.6, 0.28 * tallest + 1.1))
        for ax, (group, part) in zip(axes, page, strict=True):
            labels = _short_labels(part)
            if multi:
                labels = [
                    f"{label} · {run}" for label, run in zip(labels, part["source"], strict=True)
                ]
            factor, unit = time_scale(part["median_s"])
            _boxes(ax, [samples * factor for samples in part["samples"]], labels)
            logarithmic = log_range(part["median_s"]) > LOG_AXIS_RANGE
            if logarithmic:
                log_axis(ax, "x")
            ax.set_xlabel(f"time per round ({unit}{', log' if logarithmic else ''})")
            ax.set_title(group, fontsize=9)
            ax.grid(axis="x", alpha=0.3)
        figure.suptitle(
            "Latency distributions of the raw samples (box: quartiles, red: median, "
            "whiskers: 1.5 IQR, dots: outliers)",
            fontsize=11,
        )
        figures.append(figure)
    return figures


def _boxes(ax, data: Sequence[np.ndarray], labels: Sequence[str]) -> None:
    """Horizontal box plots drawn as a few collections.

    NOTE: Axes.boxplot makes six Line2D artists per box, which made the distribution pages the
    slowest part of a large report; the statistics are still matplotlib's (cbook.boxplot_stats).
    """
    stats = cbook.boxplot_stats(data, whis=1.5)
    y = np.arange(len(stats))
    q1, q3 = np.array([s["q1"] for s in stats]), np.array([s["q3"] for s in stats])
    low, high = np.array([s["whislo"] for s in stats]), np.array([s["whishi"] for s in stats])
    ax.barh(y, q3 - q1, left=q1, height=0.6, color="lightsteelblue", edgecolor="tab:blue")
    ax.hlines(np.r_[y, y], np.r_[low, q3], np.r_[q1, high], color="black", linewidth=1)
    ax.vlines(np.r_[low, high], np.r_[y, y] - 0.2, np.r_[y, y] + 0.2, color="black", linewidth=1)
    ax.vlines([s["med"] for s in stats], y - 0.3, y + 0.3, color="tab:red", linewidth=1.5)
    fliers = [(value, index) for index, s in enumerate(stats) for value in s["fliers"]]
    if fliers:
        ax.plot(*zip(*fliers, strict=True), "o", markersize=2, alpha=0.4, color="gray")
    ax.set_yticks(y, labels, fontsize=7)
    ax.invert_yaxis()


def _short_labels(rows: pd.DataFrame) -> list[str]:
    """The parameter ids of a group without the parts every member shares; a member left with
    nothing of its own (another test function in the group) is named by its test function."""
    split = [str(label).split("-") for label in rows["label"]]
    shared = set.intersection(*(set(parts) for parts in split)) if len(split) > 1 else set()
    return [
        "-".join(p for p in parts if p not in shared)
        or str(name).split("[")[0].removeprefix("test_")
        for parts, name in zip(split, rows["name"], strict=True)
    ]
