"""The saving family: export, reload and serving time, op by format, each with its spread."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from tf2bench.records.families import family
from tf2bench.report import analysis
from tf2bench.report.axes import (
    fixed_margins,
    label_inches,
    legend_at_bottom,
    log_axis,
    time_scale,
)
from tf2bench.report.formatting import fmt_bytes, fmt_ratio, fmt_time, fmt_value
from tf2bench.report.render import Plot, Section, Table
from tf2bench.report.sections.common import (
    NOISE_NOTE,
    Columns,
    Result,
    cells,
    first_source,
    lead_columns,
)

__all__ = ["FORMAT_COLORS", "OPS", "SECTIONS", "saving_figure", "saving_section", "saving_times"]

# The record's op -> (what is done, to which format); the figure has a panel per action.
OPS = {
    "savedmodel_save": ("save", "SavedModel"),
    "keras_save": ("save", ".keras"),
    "savedmodel_load": ("load", "SavedModel"),
    "keras_load": ("load", ".keras"),
    "serve_reloaded": ("serve", "reloaded SavedModel"),
    "serve_live": ("serve", "live Keras model"),
}
FORMAT_COLORS = {
    "SavedModel": "tab:blue",
    ".keras": "tab:orange",
    "reloaded SavedModel": "tab:purple",
    "live Keras model": "tab:green",
}


def saving_times(frame: pd.DataFrame) -> pd.DataFrame:
    """analysis.saving_ops plus action, format, and the quartiles per call (q1_s, q3_s)."""
    saving = analysis.saving_ops(frame)
    if saving.empty:
        return saving
    data = frame[frame["family"] == "saving"]
    per_call = saving["time_s"].to_numpy() / data["median_s"].to_numpy()
    known = saving["op"].map(lambda op: OPS.get(op, (str(op), "-")))
    return saving.assign(
        action=[a for a, _ in known],
        format=[f for _, f in known],
        q1_s=data["q1_s"].to_numpy() * per_call,
        q3_s=data["q3_s"].to_numpy() * per_call,
    )


def saving_figure(saving: pd.DataFrame) -> Figure:
    """A panel per action (save, load, serve) with its own log axis; a row per network, style
    (and batch); a dot per format, coloured as the legend says, with the quartile range."""
    multi = saving["source"].nunique() > 1 or saving["device"].nunique() > 1
    rows = saving.assign(
        case=saving["network"]
        + " · "
        + saving["style"].fillna("-").astype(str)
        + saving["batch_size"].map(lambda b: "" if pd.isna(b) else f" · batch {b:g}")
        + ((" · " + saving["source"] + " · " + saving["device"]) if multi else "")
    )
    actions = list(dict.fromkeys(rows["action"]))
    counts = [rows.loc[rows["action"] == a, "case"].nunique() for a in actions]
    figure = Figure(figsize=(9, 0.2 * sum(counts) + 0.75 * len(actions) + 1.2))
    axes = figure.subplots(len(actions), 1, squeeze=False, height_ratios=counts).ravel()
    for ax, action in zip(axes, actions, strict=True):
        part = rows[rows["action"] == action]
        cases = list(dict.fromkeys(part["case"]))
        formats = list(dict.fromkeys(part["format"]))
        factor, unit = time_scale(part["time_s"])
        for index, fmt in enumerate(formats):
            dots = part[part["format"] == fmt]
            offset = (index - (len(formats) - 1) / 2) * 0.3
            y = np.array([cases.index(c) for c in dots["case"]]) + offset
            errors = np.array([dots["time_s"] - dots["q1_s"], dots["q3_s"] - dots["time_s"]])
            ax.errorbar(
                dots["time_s"] * factor,
                y,
                xerr=np.nan_to_num(np.clip(errors, 0, None)) * factor,
                fmt="o",
                markersize=4,
                elinewidth=1,
                color=FORMAT_COLORS.get(fmt, f"C{index + 4}"),
                label=fmt,
            )
        ax.set_yticks(range(len(cases)), cases, fontsize=7)
        ax.set_ylim(len(cases) - 0.5, -0.5)
        log_axis(ax, "x")
        ax.set_xlabel(f"time per {action} ({unit}, log)")
        ax.set_title(f"{action}: by format", fontsize=9, loc="left")
        ax.grid(axis="x", which="both", alpha=0.3)
    fixed_margins(
        figure,
        left=label_inches(rows["case"]),
        bottom=1.0,
        top=0.75,
        title=("Saving and serving: time per call by format (dots: median; bars: quartiles)"),
        gap=0.75,
    )
    legend_at_bottom(figure, list(axes), ncols=4)
    return figure


def saving_section(frame: pd.DataFrame, multi: bool) -> Result:
    """Export and reload time, size on disk, and serving the reloaded vs the live model."""
    saving = saving_times(frame)
    if saving.empty:
        return None
    declared = family("saving")
    columns: Columns = {
        **lead_columns(multi),
        "network": lambda r: r["network"],
        "action": lambda r: r["action"],
        "format": lambda r: r["format"],
        "style": lambda r: fmt_value(r["style"]),
        "batch": lambda r: fmt_value(r["batch_size"]),
        "time per call": lambda r: fmt_time(r["time_s"], r["noisy"]),
        "size on disk": lambda r: fmt_bytes(r["size_on_disk_bytes"]),
    }
    blocks: list = [
        Plot(
            "saving",
            saving_figure(saving),
            "**Look at** the colours within a row: each is one format of the same model, so "
            "the gap between them is what the format costs. Each panel has its own axis "
            "(serving is about a thousand times faster than export).",
        ),
        Table(cells(saving, columns), f"Saving and serving per call. {NOISE_NOTE}"),
    ]
    section = Section(declared.title, blocks, question=declared.question, nav="Saving")
    ops = first_source(saving).groupby("op", sort=False)["time_s"].median()
    parts = [f"`{op}` {fmt_time(ops[op])}" for op in ops.index if "serve" not in str(op)]
    if {"serve_reloaded", "serve_live"} <= set(ops.index):
        ratio = fmt_ratio(ops["serve_reloaded"] / ops["serve_live"])
        parts.append(f"serving the reloaded model takes {ratio} the live model's time")
    headline = "**Saving** (median over networks and styles): " + "; ".join(parts) + "."
    return section, [headline] if parts else []


# The family's sections in report order (its declaration names this module).
SECTIONS = (saving_section,)
