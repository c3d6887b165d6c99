"""Shared pieces of the report's figures: panels, facets, log axes, legends, time units.

Figures are `matplotlib.figure.Figure` objects built directly (no pyplot, no GUI backend);
`Figure.savefig` renders PNG through Agg.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, Locator, LogLocator, NullLocator

__all__ = [
    "LINE_STYLES",
    "InView",
    "auto_margins",
    "fixed_margins",
    "grid_panels",
    "label_inches",
    "legend_at_bottom",
    "hbar",
    "legend_below",
    "log_axis",
    "panel_title",
    "split_facets",
    "stacked_panels",
    "time_scale",
]

LINE_STYLES = ("-", "--", ":", "-.")  # one per results file when several share a panel


def time_scale(values: Sequence[float] | pd.Series) -> tuple[float, str]:
    """(factor, unit) that puts the typical value of seconds `values` in 1..1000 of the unit."""
    array = np.asarray(values, dtype=float)
    array = array[np.isfinite(array) & (array > 0)]
    typical = float(np.median(array)) if array.size else 1.0
    for factor, unit in ((1.0, "s"), (1e3, "ms"), (1e6, "µs")):
        if typical * factor >= 1:
            return factor, unit
    return 1e9, "ns"


def log_axis(ax, axis: str = "y") -> None:
    """A log scale with plain-number tick labels (1, 2, 5, 10, ...).

    NOTE: matplotlib's default log labels are mathtext ($10^{-3}$), which costs about half of a
    figure's render time; plain labels read better next to a unit in the axis label anyway.
    """
    target = ax.yaxis if axis == "y" else ax.xaxis
    (ax.set_yscale if axis == "y" else ax.set_xscale)("log")
    plain = FuncFormatter(lambda value, _: f"{value:g}")
    target.set_major_formatter(plain)
    low, high = ax.get_ylim() if axis == "y" else ax.get_xlim()
    span = high / low if low > 0 else math.inf
    if span < 100:  # under 2 decades the decades alone leave the axis nearly unlabelled
        subs = (2, 3, 4, 5, 6, 7, 8, 9) if span < 4 else (2, 5)
        target.set_minor_locator(InView(LogLocator(subs=subs)))
        target.set_minor_formatter(plain)
    else:  # every minor tick is an artist; on wide axes they cost time and add nothing
        target.set_minor_locator(NullLocator())


class InView(Locator):
    """`locator`'s ticks without those clearly outside the view.

    NOTE: matplotlib builds a Tick (six artists) for every location its locator returns and
    then draws only those in view; LogLocator returns a decade or more beyond each end, so on
    a narrow log axis most Ticks were built for nothing. The margin keeps every tick that
    matplotlib would draw (it tolerates 1e-10 of the axis), so the figure is unchanged. Used
    for minor ticks only: `auto_margins` sizes a margin from the major labels, out of view too.
    """

    MARGIN = 1e-6  # of the axis length, in the scale's coordinates

    def __init__(self, locator: Locator) -> None:
        self.locator = locator

    def set_axis(self, axis) -> None:
        super().set_axis(axis)
        self.locator.set_axis(axis)

    def __call__(self) -> np.ndarray:
        locs = np.asarray(self.locator(), dtype=float)
        transform = self.axis.get_transform()
        low, high = sorted(transform.transform(self.axis.get_view_interval()))
        margin = (high - low) * self.MARGIN
        with np.errstate(divide="ignore", invalid="ignore"):
            scaled = transform.transform(locs)
        return locs[(scaled >= low - margin) & (scaled <= high + margin)]

    def tick_values(self, vmin: float, vmax: float) -> np.ndarray:
        return self.locator.tick_values(vmin, vmax)

    def view_limits(self, vmin: float, vmax: float) -> tuple[float, float]:
        return self.locator.view_limits(vmin, vmax)

    def nonsingular(self, v0: float, v1: float) -> tuple[float, float]:
        return self.locator.nonsingular(v0, v1)


def grid_panels(count: int, ncols: int, panel: tuple[float, float]) -> tuple[Figure, list]:
    """A Figure with `count` panels of `panel` inches in rows of `ncols`; spare axes hidden."""
    ncols = max(1, min(ncols, count))
    nrows = math.ceil(count / ncols)
    figure = Figure(figsize=(panel[0] * ncols, panel[1] * nrows + 0.9), layout="constrained")
    axes = figure.subplots(nrows, ncols, squeeze=False).ravel()
    for spare in axes[count:]:
        spare.set_visible(False)
    return figure, list(axes[:count])


def legend_below(figure: Figure, axes: Sequence, ncols: int = 6) -> None:
    """One legend for the whole figure, below the panels, so it never hides data.

    Also lays the figure out with margins estimated from its labels (see auto_margins): the
    constrained layout engine measured every tick label and cost most of a figure's render.
    """
    handles, labels = {}, []
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            if label not in handles:
                handles[label] = handle
                labels.append(label)
    columns = 1
    if labels:
        # About 0.065 inch per character at fontsize 8, plus the marker: as many columns as fit.
        entry_inches = (max(len(label) for label in labels) + 6) * 0.065
        fitting = max(1, int(figure.get_figwidth() // entry_inches))
        columns = min(ncols, len(labels), fitting)
        figure.legend(
            [handles[label] for label in labels],
            labels,
            loc="lower center",
            ncols=columns,
            fontsize=8,
            frameon=False,
        )
    legend_rows = math.ceil(len(labels) / columns) if labels else 0
    auto_margins(figure, legend_inches=0.2 * legend_rows + (0.1 if labels else 0))


def _tick_inches(ticks, default_chars: int = 6) -> tuple[float, float]:
    """(width, height) in inches of the widest tick label (rotation taken into account)."""
    texts = [t for t in ticks if t.get_text()]
    chars = max((len(t.get_text()) for t in texts), default=default_chars)
    size = texts[0].get_fontsize() if texts else 8
    rotation = math.radians(texts[0].get_rotation()) if texts else 0.0
    length = chars * size * 0.64 / 72
    height = size / 72
    return (
        length * math.cos(rotation) + height * math.sin(rotation),
        length * math.sin(rotation) + height * math.cos(rotation),
    )


def auto_margins(figure: Figure, legend_inches: float = 0.0) -> None:
    """Fixed margins for a grid of panels, from the lengths of its tick labels and titles."""
    axes = [ax for ax in figure.axes if ax.get_visible()]
    if not axes:
        return
    grid = axes[0].get_subplotspec().get_gridspec()
    nrows, ncols = grid.nrows, grid.ncols
    width, height = figure.get_size_inches()

    def left_of(ax) -> float:
        return _tick_inches(ax.get_yticklabels())[0] + (0.4 if ax.get_ylabel() else 0) + 0.2

    first = [ax for ax in axes if ax.get_subplotspec().colspan.start == 0]
    others = [ax for ax in axes if ax.get_subplotspec().colspan.start > 0]
    below = max(_tick_inches(ax.get_xticklabels(), 3)[1] for ax in axes)
    below += 0.1 + (0.22 if any(ax.get_xlabel() for ax in axes) else 0)
    left = max(left_of(ax) for ax in first)
    gap_x = max((left_of(ax) for ax in others), default=0.0) + 0.3
    title = 0.35 if any(ax.get_title() for ax in axes) else 0.15
    top = title + (0.3 if figure.get_suptitle() else 0.0)
    bottom = below + legend_inches + 0.1
    gap_y = title + below + 0.1
    panel_w = max((width - left - 0.3 - gap_x * (ncols - 1)) / ncols, 0.5)
    panel_h = max((height - top - bottom - gap_y * (nrows - 1)) / nrows, 0.3)
    figure.set_layout_engine(None)
    figure.subplots_adjust(
        left=min(left / width, 0.6),
        right=1 - 0.3 / width,
        bottom=min(bottom / height, 0.45),
        top=1 - top / height,
        wspace=gap_x / panel_w,
        hspace=gap_y / panel_h,
    )


def split_facets(frame: pd.DataFrame, keys: Sequence[str]) -> Iterator[tuple[str, pd.DataFrame]]:
    """(title, rows) per distinct value of `keys`, in order of appearance; NaN keys allowed."""
    keys = [key for key in keys if key in frame.columns]
    if not keys:
        yield "", frame
        return
    for values, rows in frame.groupby(keys, sort=False, dropna=False):
        values = values if isinstance(values, tuple) else (values,)
        parts = [_facet_part(key, value) for key, value in zip(keys, values, strict=True)]
        yield " · ".join(part for part in parts if part), rows


def _facet_part(key: str, value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"batch {value:g}" if key == "batch_size" else str(value)


def panel_title(ax, what: str, facet: str) -> None:
    """Titles a panel with what it shows, then its facet (run · device · batch ...)."""
    ax.set_title(f"{what} — {facet}" if facet else what, fontsize=10)


def hbar(ax, labels: Sequence[str], values, **style) -> None:
    """Horizontal bars, the first label on top."""
    y = np.arange(len(labels))
    ax.barh(y, values, **style)
    ax.set_yticks(y, labels, fontsize=8)
    ax.invert_yaxis()


def stacked_panels(facets: Sequence[tuple[str, pd.DataFrame]], width: float) -> tuple[Figure, list]:
    """One panel per facet, stacked, each as tall as its number of bars (horizontal charts)."""
    counts = [max(len(rows), 1) for _, rows in facets]
    height = 0.3 * sum(counts) + 1.1 * len(counts) + 0.8
    figure = Figure(figsize=(width, height), layout="constrained")
    ratios = [count + 3 for count in counts]
    axes = figure.subplots(len(counts), 1, squeeze=False, height_ratios=ratios).ravel()
    return figure, list(axes)


def fixed_margins(
    figure: Figure,
    *,
    left: float,
    bottom: float,
    top: float,
    right: float = 0.3,
    gap: float = 0.0,
    title: str | None = None,
) -> None:
    """Margins in inches, set once, instead of the constrained layout engine.

    NOTE: constrained layout measures every tick label and took two thirds of a tall
    figure's render time; the report's dot plots know their label widths and use this.
    """
    width, height = figure.get_size_inches()
    figure.set_layout_engine(None)
    if title:
        figure.suptitle(title, y=1 - 0.1 / height, va="top", fontsize=10)
    grid = figure.axes[0].get_subplotspec().get_gridspec() if figure.axes else None
    panels = grid.nrows if grid is not None else 1
    usable = height - top - bottom
    figure.subplots_adjust(
        left=min(left / width, 0.6),
        right=1 - right / width,
        bottom=bottom / height,
        top=1 - top / height,
        hspace=gap * panels / max(usable - gap * (panels - 1), 0.1),
    )


def label_inches(labels: Sequence[str], fontsize: float = 7) -> float:
    """About how wide the longest label is, in inches (DejaVu Sans: ~0.6 em per character)."""
    longest = max((len(str(label)) for label in labels), default=0)
    return longest * fontsize * 0.64 / 72 + 0.2


def legend_at_bottom(figure: Figure, axes: Sequence, ncols: int = 6) -> None:
    """legend_below for figures with fixed_margins: the legend sits in the bottom margin."""
    handles, labels = {}, []
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            if label not in handles:
                handles[label] = handle
                labels.append(label)
    if labels:
        figure.legend(
            [handles[label] for label in labels],
            labels,
            loc="lower center",
            ncols=min(ncols, len(labels)),
            fontsize=8,
            frameon=False,
        )
