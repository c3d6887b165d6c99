"""The training family: time per step of `fit` and custom loops, first epoch vs later ones."""

from __future__ import annotations

import pandas as pd

from tf2bench.records.families import family
from tf2bench.report import analysis, plots
from tf2bench.report.formatting import fmt_time, fmt_value
from tf2bench.report.render import Plot, Section, Table
from tf2bench.report.sections.common import (
    NOISE_NOTE,
    Columns,
    Result,
    cells,
    first_source,
    lead_columns,
)

__all__ = ["SECTIONS", "training_section"]


def training_section(frame: pd.DataFrame, multi: bool) -> Result:
    """Time per step of each loop and epoch, a figure and a table."""
    loops = analysis.training_loops(frame)
    if loops.empty:
        return None
    declared = family("training")
    columns: Columns = {
        **lead_columns(multi),
        "network": lambda r: r["network"],
        "loop": lambda r: r["loop"],
        "epoch": lambda r: fmt_value(r["epoch"]),
        "time per item": lambda r: fmt_time(r["per_item_s"], r["noisy"]),
        "item": lambda r: r["item_unit"],
    }
    section = Section(
        declared.title,
        [
            Plot(
                "training_loops",
                plots.training_figure(loops),
                "Time per step of each loop: **look for** the shortest bar of the later epochs "
                "(the first epoch pays tracing).",
            ),
            Table(cells(loops, columns), NOISE_NOTE),
        ],
        question=declared.question,
        nav="Training",
    )
    rows = first_source(loops)
    later = rows[rows["epoch"] != "first"]
    later = later if not later.empty else rows
    fast, slow = later.loc[later["per_item_s"].idxmin()], later.loc[later["per_item_s"].idxmax()]
    return section, [
        f"**Training loops**: fastest `{fast['loop']}` at {fmt_time(fast['per_item_s'])} per "
        f"step, slowest `{slow['loop']}` at {fmt_time(slow['per_item_s'])}."
    ]


# The family's sections in report order (its declaration names this module).
SECTIONS = (training_section,)
