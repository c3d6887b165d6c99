"""The distribute family: throughput over replicas against ONE stated baseline.

The baseline is a strategy's own run on one replica (MirroredStrategy x1 where measured), the
same one scaling efficiency divides by, so the ideal line and the efficiency panel agree.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

from tf2bench.records.families import family
from tf2bench.report import analysis
from tf2bench.report.axes import LINE_STYLES, grid_panels, legend_below, panel_title, split_facets
from tf2bench.report.formatting import fmt_count, fmt_percent, fmt_rate, fmt_time
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
    "BASELINE_STRATEGY",
    "SECTIONS",
    "baseline_throughput",
    "distribute_section",
    "scaling_figure",
]

BASELINE_STRATEGY = "mirrored"


def baseline_throughput(part: pd.DataFrame) -> tuple[str, float] | None:
    """(strategy, throughput) of the baseline: BASELINE_STRATEGY on one replica, else the first
    strategy measured on one replica that also has a multi-replica run."""
    single = part[part["replicas"] == 1]
    scaled = set(part.loc[part["replicas"] > 1, "strategy"])
    for strategy in [BASELINE_STRATEGY, *dict.fromkeys(single["strategy"])]:
        hit = single[single["strategy"] == strategy]
        if not hit.empty and strategy in scaled:
            return strategy, float(hit["throughput_per_s"].iloc[0])
    return None


def scaling_figure(scaling: pd.DataFrame) -> Figure:
    """Per network: throughput and scaling efficiency vs replicas per strategy; the ideal line
    is the baseline's one-replica throughput times the replicas."""
    rows = scaling[scaling["replicas"].notna()]
    facets = list(split_facets(rows, ["source", "device", "network"]))
    figure, axes = grid_panels(2 * len(facets), ncols=2, panel=(5.8, 3.6))
    strategies = list(dict.fromkeys(rows["strategy"]))
    for index, (facet, part) in enumerate(facets):
        speed_ax, eff_ax = axes[2 * index], axes[2 * index + 1]
        for number, (strategy, line) in enumerate(part.groupby("strategy", sort=False)):
            line = line.sort_values("replicas")
            style = {
                "marker": "o",
                "color": f"C{strategies.index(strategy)}",
                "linestyle": LINE_STYLES[number % len(LINE_STYLES)] if len(line) > 1 else "",
                "label": strategy,
            }
            speed_ax.plot(line["replicas"], line["throughput_per_s"], **style)
            eff_ax.plot(line["replicas"], line["scaling_efficiency"], **style)
        replicas = np.array(sorted(part["replicas"].unique()))
        baseline = baseline_throughput(part)
        if baseline is not None:
            name, single = baseline
            speed_ax.plot(
                replicas,
                replicas * single,
                color="black",
                linestyle=":",
                label=f"ideal: {name} ×1 throughput × replicas",
            )
        eff_ax.axhline(1.0, color="black", linestyle=":")
        unit = part["item_unit"].iloc[0]
        speed_ax.set_ylabel(f"throughput ({unit}/s)")
        speed_ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: fmt_rate(value)[:-2]))
        panel_title(speed_ax, "Throughput vs replicas", facet)
        eff_ax.set_ylabel("scaling efficiency (% of ideal)")
        eff_ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        eff_ax.set_ylim(0, 1.1)
        panel_title(eff_ax, "Scaling efficiency vs replicas", facet)
        for ax in (speed_ax, eff_ax):
            ax.set_xticks(replicas, [f"{r:g}" for r in replicas])
            ax.set_xlabel("replicas (count)")
            ax.grid(alpha=0.3)
    legend_below(figure, axes, ncols=3)
    return figure


def distribute_section(frame: pd.DataFrame, multi: bool) -> Result:
    """Distribution strategies: the scaling curve over replicas, one baseline."""
    scaling = analysis.distribute_scaling(frame)
    if scaling.empty:
        return None
    declared = family("distribute")
    columns: Columns = {
        **lead_columns(multi),
        "network": lambda r: r["network"],
        "strategy": lambda r: r["strategy"],
        "replicas": lambda r: fmt_count(r["replicas"]),
        "step time": lambda r: fmt_time(r["step_s"], r["noisy"]),
        "throughput": lambda r: f"{fmt_rate(r['throughput_per_s'])[:-2]} {r['item_unit']}/s",
        "scaling efficiency": lambda r: fmt_percent(r["scaling_efficiency"]),
    }
    blocks: list = [
        f"Baseline: **{BASELINE_STRATEGY} on one replica**. The ideal line is its throughput "
        "times the replicas, and scaling efficiency is throughput over that ideal. `none` and "
        "`one_device` (no strategy, or one device) are single-replica references."
    ]
    if scaling["replicas"].notna().any():
        blocks.append(
            Plot(
                "distribute_scaling",
                scaling_figure(scaling),
                "**Look at** how far each strategy's throughput falls below the dotted ideal: "
                "on one machine's CPU, replicas share the same cores, so efficiency drops.",
            )
        )
    blocks.append(Table(cells(scaling, columns), NOISE_NOTE))
    section = Section(declared.title, blocks, question=declared.question, nav="Distribution")
    widest = first_source(scaling).dropna(subset=["replicas", "scaling_efficiency"])
    headlines = []
    if not widest.empty:
        top = widest.loc[widest["replicas"].idxmax()]
        headlines.append(
            f"**Scaling** (baseline {BASELINE_STRATEGY} ×1): `{top['strategy']}` on "
            f"{fmt_count(top['replicas'])} replicas runs at "
            f"{fmt_percent(top['scaling_efficiency'])} scaling efficiency."
        )
    return section, headlines


# The family's sections in report order (its declaration names this module).
SECTIONS = (distribute_section,)
