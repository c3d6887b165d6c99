"""Helpers shared by the report sections: formatted table columns and the notes under tables."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd

from tf2bench.records.stats import NOISE_WIDTH_THRESHOLD
from tf2bench.report.analysis import REPORT_RESAMPLES
from tf2bench.report.formatting import NOISY_MARK, fmt_value
from tf2bench.report.render import Section

__all__ = [
    "CI_NOTE",
    "NOISE_NOTE",
    "REPORT_RESAMPLES",
    "Columns",
    "Result",
    "cells",
    "first_source",
    "lead_columns",
    "row_key",
    "rows_by_key",
]

NOISE_NOTE = (
    f"{NOISY_MARK} marks a noisy result: the 95% interval of its median is wider than "
    f"{NOISE_WIDTH_THRESHOLD:.0%} of the median."
)
CI_NOTE = (
    "Brackets: 95% bootstrap confidence interval of the ratio of medians; over the processes "
    "(hierarchical) when both sides ran in 2+ processes, else inside one process only."
)

# header -> (row -> cell text)
Columns = dict[str, Callable[[dict], str]]
# A section and its "answer at a glance" bullets, or None when the data has nothing for it.
Result = tuple[Section, list[str]] | None


def cells(frame: pd.DataFrame, columns: Columns) -> pd.DataFrame:
    """A table of formatted strings, one column per entry of `columns`."""
    # NOTE: rows are plain dicts (to_dict), several times faster than DataFrame.iterrows.
    return pd.DataFrame(
        [[render(row) for render in columns.values()] for row in frame.to_dict("records")],
        columns=list(columns),
    )


def rows_by_key(frame: pd.DataFrame, keys: Sequence[str]) -> dict[tuple, dict]:
    """The first row of `frame` per value of `keys` (see row_key), as plain dicts.

    NOTE: for table cells that look up another row: a dict lookup, where DataFrame.loc on a
    MultiIndex cost about a millisecond per cell.
    """
    return {row_key(row, keys): row for row in frame.drop_duplicates(keys).to_dict("records")}


def row_key(row: dict, keys: Sequence[str]) -> tuple:
    """The row's values in `keys`, NaN as None so that a missing value matches itself."""
    return tuple(None if pd.isna(row[key]) else row[key] for key in keys)


def lead_columns(multi: bool, device: bool = True) -> Columns:
    """The run and device columns that open most tables (run only with several files)."""
    columns: Columns = {}
    if multi:
        columns["run"] = lambda r: r["source"]
    if device:
        columns["device"] = lambda r: fmt_value(r["device"])
    return columns


def first_source(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of the first file on the command line (headlines speak about that one)."""
    if "source_order" in frame.columns:
        return frame[frame["source_order"] == frame["source_order"].min()]
    return frame[frame["source"] == frame["source"].iloc[0]]
