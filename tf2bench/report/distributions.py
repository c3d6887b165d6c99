"""Latency distributions of every benchmark group as small multiples, drawn straight as SVG.

One SVG per family; a panel per group, as tall as its number of rows, placed in the shorter of
two columns. The axis of a panel ends at the CLIP_QUANTILE of its samples, so one 35 s outlier
among 50 ms samples cannot set it: samples beyond are counted at the right edge instead.
Written directly (no matplotlib) because a report draws a hundred such panels.
"""

from __future__ import annotations

import html
import math

import numpy as np
import pandas as pd

__all__ = ["CLIP_QUANTILE", "distribution_svg", "group_panels", "panel_axis"]

CLIP_QUANTILE = 0.99
QUARTILES = (0.25, 0.5, 0.75)
LOG_AXIS_RANGE = 3.0  # medians spanning more than this factor get a log axis
ROW, HEAD, FOOT, LABEL, PLOT, GAP = 15, 22, 26, 170, 250, 24
PANEL_WIDTH = LABEL + PLOT + 12
UNITS = ((1.0, "s"), (1e3, "ms"), (1e6, "µs"), (1e9, "ns"))


def _unit(seconds: float) -> tuple[float, str]:
    for factor, unit in UNITS:
        if seconds * factor >= 1:
            return factor, unit
    return UNITS[-1]


def _nice_ticks(low: float, high: float, log: bool) -> list[float]:
    if log:
        decades = range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)
        steps = (1, 2, 5) if len(decades) <= 3 else (1,)  # wide axes: decades only
        ticks = [m * 10.0**d for d in decades for m in steps]
    else:
        raw = (high - low) / 4 or abs(high) or 1.0
        step = 10 ** math.floor(math.log10(raw))
        step *= next(m for m in (1, 2, 5, 10) if raw <= m * step)
        ticks = list(np.arange(math.floor(low / step) * step, high + step, step))
    return [t for t in ticks if low <= t <= high]


def panel_axis(samples: list[np.ndarray]) -> tuple[float, float, bool]:
    """(low, high, log) in seconds of a panel's axis: from the lowest sample to the
    CLIP_QUANTILE of the pooled samples, or past the highest third quartile if that is larger
    (so every box is whole)."""
    quartiles = [np.quantile(s, QUARTILES) for s in samples]
    return _axis(samples, [np.median(s) for s in samples], quartiles)


def _axis(
    samples: list[np.ndarray], medians: list[float], quartiles: list[np.ndarray]
) -> tuple[float, float, bool]:
    """panel_axis from each sample's median and quartiles, computed once per panel."""
    pooled = np.concatenate(samples)
    medians = np.array(medians)
    top_box = max(float(q[2]) for q in quartiles) * 1.05
    high = max(float(np.quantile(pooled, CLIP_QUANTILE)), top_box)
    low = float(pooled.min())
    log = low > 0 and medians.max() / max(medians.min(), 1e-300) > LOG_AXIS_RANGE
    if not log:
        low = max(0.0, low - 0.05 * (high - low))
    if high <= low:
        high = low * 1.1 + 1e-12
    return low, high, log


def _panel(title: str, labels: list[str], samples: list[np.ndarray], y0: float) -> tuple[str, int]:
    """One group's box plots; returns (svg markup, height)."""
    # NOTE: each sample's median and quartiles once; computing them twice was a fifth of
    # the distributions' time.
    medians = [np.median(s) for s in samples]
    quartiles = [np.quantile(s, QUARTILES) for s in samples]
    low, high, log = _axis(samples, medians, quartiles)
    factor, unit = _unit(float(np.median(medians)))

    def x(value: float) -> float:
        value = min(max(value, low), high)
        if log:
            share = math.log(value / low) / math.log(high / low)
        else:
            share = (value - low) / (high - low)
        return LABEL + share * PLOT

    height = HEAD + ROW * len(labels) + FOOT
    out = [f'<g transform="translate(0,{y0:.0f})">']
    out.append(f'<text x="2" y="14" class="t">{html.escape(title)}</text>')
    clipped_total = 0
    for row, (label, data, (q1, med, q3)) in enumerate(
        zip(labels, samples, quartiles, strict=True)
    ):
        iqr = q3 - q1
        inside = data[(data >= q1 - 1.5 * iqr) & (data <= q3 + 1.5 * iqr)]
        lo, hi = (inside.min(), inside.max()) if inside.size else (q1, q3)
        cy = HEAD + ROW * row + ROW / 2
        out.append(
            f'<text x="{LABEL - 4}" y="{cy + 3.5:.1f}" class="l">{html.escape(label)}</text>'
        )
        out.append(
            f'<line x1="{x(lo):.1f}" x2="{x(hi):.1f}" y1="{cy:.1f}" y2="{cy:.1f}" class="w"/>'
        )
        out.append(
            f'<rect x="{x(q1):.1f}" y="{cy - 4.5:.1f}" width="{max(x(q3) - x(q1), 0.8):.1f}" '
            f'height="9" class="b"/>'
        )
        out.append(
            f'<line x1="{x(med):.1f}" x2="{x(med):.1f}" y1="{cy - 5.5:.1f}" '
            f'y2="{cy + 5.5:.1f}" class="m"/>'
        )
        outliers = data[((data < lo) | (data > hi)) & (data <= high)]
        for value in outliers[:: max(1, outliers.size // 40)]:
            out.append(f'<circle cx="{x(value):.1f}" cy="{cy:.1f}" r="1.3" class="o"/>')
        clipped = int((data > high).sum())
        if clipped:
            clipped_total += clipped
            out.append(
                f'<text x="{LABEL + PLOT + 2}" y="{cy + 3.5:.1f}" class="c">▸{clipped}</text>'
            )
    axis_y = HEAD + ROW * len(labels) + 2
    out.append(f'<line x1="{LABEL}" x2="{LABEL + PLOT}" y1="{axis_y}" y2="{axis_y}" class="a"/>')
    for tick in _nice_ticks(low, high, log):
        tx = x(tick)
        out.append(f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="{HEAD}" y2="{axis_y + 3}" class="g"/>')
        out.append(f'<text x="{tx:.1f}" y="{axis_y + 13}" class="k">{tick * factor:g}</text>')
    note = f"{unit}{', log' if log else ''}"
    if clipped_total:
        note += f"; ▸n: n samples above the {CLIP_QUANTILE:.0%} quantile"
    out.append(f'<text x="{LABEL + PLOT / 2}" y="{axis_y + 24}" class="k">{note}</text>')
    out.append("</g>")
    return "".join(out), height


STYLE = (
    "<style>.t{font:bold 11px sans-serif}.l{font:9px sans-serif;text-anchor:end}"
    ".k{font:9px sans-serif;text-anchor:middle;fill:#444}.c{font:9px sans-serif;fill:#b00}"
    ".w,.a{stroke:#333;stroke-width:1}.b{fill:#b0c4de;stroke:#1f77b4}"
    ".m{stroke:#d62728;stroke-width:2}.o{fill:#888;fill-opacity:.5}.g{stroke:#ddd}</style>"
)


def distribution_svg(groups: list[tuple[str, list[str], list[np.ndarray]]]) -> str:
    """An SVG of box plots, a panel per (title, row labels, samples) in two columns."""
    columns = [[], []]
    heights = [0.0, 0.0]
    for title, labels, samples in groups:
        side = 0 if heights[0] <= heights[1] else 1
        markup, height = _panel(title, labels, samples, heights[side])
        columns[side].append(markup)
        heights[side] += height + GAP
    width, total = 2 * PANEL_WIDTH + GAP, max(heights) - GAP
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{total:.0f}" '
        f'viewBox="0 0 {width} {total:.0f}">',
        STYLE,
    ]
    parts += [
        f'<g transform="translate({side * (PANEL_WIDTH + GAP)},0)">' + "".join(col) + "</g>"
        for side, col in enumerate(columns)
    ]
    parts.append("</svg>")
    return "".join(parts)


def group_panels(rows: pd.DataFrame, labels: list[str]) -> tuple[list[str], list[np.ndarray]]:
    """(labels, samples) of a group's rows that have raw samples."""
    keep = [i for i, s in enumerate(rows["samples"]) if s is not None and len(s)]
    return [labels[i] for i in keep], [
        np.asarray(rows["samples"].iloc[i], dtype=float) for i in keep
    ]
