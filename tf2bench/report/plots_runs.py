"""Figures across runs and families: CPU vs GPU and runs side by side.

One function per figure, each returns a matplotlib Figure; inputs are the frames of
`tf2bench.report.analysis` (or the tidy frame, for the raw-sample distributions).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from tf2bench.report.axes import (
    legend_below,
    log_axis,
)

__all__ = [
    "MAX_BAR_ROWS",
    "device_figure",
    "short_labels",
    "source_ratio_figure",
]

# Ratio bar charts show at most this many rows (the largest changes); the tables show all.
MAX_BAR_ROWS = 40


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


def short_labels(rows: pd.DataFrame) -> list[str]:
    """The parameter ids of a group without the parts every member shares; a member left with
    nothing of its own (another test function in the group) is named by its test function."""
    split = [str(label).split("-") for label in rows["label"]]
    shared = set.intersection(*(set(parts) for parts in split)) if len(split) > 1 else set()
    return [
        "-".join(p for p in parts if p not in shared)
        or str(name).split("[")[0].removeprefix("test_")
        for parts, name in zip(split, rows["name"], strict=True)
    ]
