"""History: many runs of one environment, each benchmark's median and interval over time.

Runs are ordered by the commit date recorded in the fingerprint (`git_commit_date`), then by
the run's own date. Each step from one run to the next goes through the regression gate
(`tf2bench.report.compare.compare_runs`); the changes it would flag are marked, as in asv's
published graphs, so a team keeping CI results can see when something got slower.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from tf2bench.records.schema import RunResults
from tf2bench.records.stats import geometric_mean
from tf2bench.report.axes import fixed_margins, legend_at_bottom, log_axis
from tf2bench.report.formatting import fmt_ratio, fmt_time
from tf2bench.report.render import Plot, Section, Table

__all__ = [
    "MIN_RUNS",
    "HistoryPoint",
    "history_frame",
    "history_figure",
    "history_overview_figure",
    "history_section",
    "is_history",
    "ordered_runs",
]

MIN_RUNS = 3  # fewer files are a comparison, shown side by side
MAX_PANELS = 24  # benchmarks drawn one by one (flagged ones first); the table lists every flag
PANEL_COLUMNS = 3
Z_95 = 1.959964


@dataclass(frozen=True)
class HistoryPoint:
    """Where a run sits on the time axis."""

    label: str  # "abc1234 · 12-03 08:05"
    commit: str | None
    date: str


def is_history(runs: Sequence[RunResults]) -> bool:
    """At least MIN_RUNS files, all of one environment (same fingerprint id)."""
    return len(runs) >= MIN_RUNS and len({run.fingerprint_id for run in runs}) == 1


def ordered_runs(runs: Sequence[RunResults]) -> list[tuple[RunResults, HistoryPoint]]:
    """The runs by commit date, then run date, then command-line order."""

    def key(item: tuple[int, RunResults]) -> tuple:
        index, run = item
        return (run.fingerprint.get("git_commit_date") or "", run.datetime or "", index)

    ordered = []
    for _, run in sorted(enumerate(runs), key=key):
        commit = run.fingerprint.get("git_commit")
        date = str(run.datetime or run.fingerprint.get("git_commit_date") or "")
        stamp = date[5:16].replace("T", " ")
        label = f"{commit[:7]} · {stamp}" if commit else stamp or run.path
        ordered.append((run, HistoryPoint(label, commit, date)))
    return ordered


def _median_interval(samples: Sequence[float] | None, median: float) -> tuple[float, float]:
    """Distribution-free 95% interval of the median (binomial order statistics)."""
    if not samples or len(samples) < 6:
        return math.nan, math.nan
    ordered = np.sort(np.asarray(samples, dtype=float))
    n = ordered.size
    half = Z_95 * math.sqrt(n) / 2
    low = max(int(math.floor(n / 2 - half)), 0)
    high = min(int(math.ceil(n / 2 + half)), n - 1)
    return float(ordered[low]), float(ordered[high])


def history_frame(runs: Sequence[RunResults]) -> pd.DataFrame:
    """A row per benchmark per run, in time order.

    Columns: step (0..), label, name, family, median_s, low_s, high_s, flag ("regression",
    "improved" or "" for the step from the previous run, as the gate classifies it), ratio
    (median over the previous run's).
    """
    # NOTE: imported here, not at the top: the gate pulls in scipy.stats, about a second of a
    # report's CPU time, and only a history needs it.
    from tf2bench.report.compare import IMPROVED, compare_runs

    ordered = ordered_runs(runs)
    flags: list[dict[str, tuple[str, float]]] = [{}]
    for (base, _), (head, _) in zip(ordered, ordered[1:], strict=False):
        comparison = compare_runs(base, head)
        marks = {c.name: ("regression", c.ratio) for c in comparison.regressions}
        marks.update(
            {c.name: ("improved", c.ratio) for c in comparison.changes if c.status == IMPROVED}
        )
        flags.append(marks)
    rows = []
    for step, (run, point) in enumerate(ordered):
        for bench in run.benchmarks:
            low, high = _median_interval(bench.samples, bench.median_s)
            flag, ratio = flags[step].get(bench.name, ("", math.nan))
            rows.append(
                {
                    "step": step,
                    "label": point.label,
                    "name": bench.name,
                    "family": bench.record.family,
                    "median_s": bench.median_s,
                    "low_s": low,
                    "high_s": high,
                    "flag": flag,
                    "ratio": ratio,
                }
            )
    return pd.DataFrame(rows)


def history_overview_figure(history: pd.DataFrame) -> Figure:
    """Per family: the geometric mean over its benchmarks of median / the first run's median."""
    first = history[history["step"] == 0].set_index("name")["median_s"]
    rows = history.assign(rel=history["median_s"] / history["name"].map(first)).dropna(
        subset=["rel"]
    )
    labels = _step_labels(history)
    figure = Figure(figsize=(9, 3.6))
    ax = figure.subplots()
    for index, (family, part) in enumerate(rows.groupby("family", sort=False)):
        line = part.groupby("step")["rel"].apply(geometric_mean)
        ax.plot(line.index, line.to_numpy(), marker="o", color=f"C{index}", label=family)
    ax.axhline(1.0, color="black", linewidth=1, linestyle="--")
    low, high = ax.get_ylim()
    ax.set_ylim(min(low, 0.95), max(high, 1.05))  # noise of a percent should look like one
    ax.set_xticks(range(len(labels)), labels, fontsize=7, rotation=20, ha="right")
    log_axis(ax, "y")
    ax.set_ylabel("time / first run (×, log)")
    ax.grid(alpha=0.3)
    fixed_margins(
        figure,
        left=0.8,
        bottom=1.25,
        top=0.4,
        title="History per family: geometric mean of each benchmark's median over its first run's",
    )
    legend_at_bottom(figure, [ax], ncols=6)
    return figure


def _step_labels(history: pd.DataFrame) -> list[str]:
    """One tick label per run, in time order (two runs of one commit keep two ticks)."""
    return list(history.drop_duplicates("step").sort_values("step")["label"])


def _chosen(history: pd.DataFrame) -> list[str]:
    """Flagged benchmarks first (most flags), then the widest swings, up to MAX_PANELS."""
    spread = history.groupby("name")["median_s"].agg(lambda m: m.max() / m.min())
    flagged = history[history["flag"] != ""].groupby("name").size()
    order = sorted(spread.index, key=lambda n: (-flagged.get(n, 0), -spread[n]))
    return order[:MAX_PANELS]


def history_figure(history: pd.DataFrame) -> Figure:
    """Small multiples: each chosen benchmark's median (line) and 95% interval (band) per run;
    red triangles mark regressions the gate flags, green ones improvements."""
    names = _chosen(history)
    labels = _step_labels(history)
    nrows = math.ceil(len(names) / PANEL_COLUMNS)
    figure = Figure(figsize=(4.2 * PANEL_COLUMNS, 2.2 * nrows + 1.6))
    axes = figure.subplots(nrows, PANEL_COLUMNS, squeeze=False, sharex=True).ravel()
    for ax in axes[len(names) :]:
        ax.set_visible(False)
    for ax, name in zip(axes, names, strict=False):
        part = history[history["name"] == name].sort_values("step")
        scale, unit = _unit(part["median_s"])
        ax.fill_between(
            part["step"],
            part["low_s"] * scale,
            part["high_s"] * scale,
            color="tab:blue",
            alpha=0.2,
            linewidth=0,
            label="95% interval of the median",
        )
        ax.plot(
            part["step"],
            part["median_s"] * scale,
            marker="o",
            markersize=3,
            color="tab:blue",
            label="median",
        )
        for flag, marker, color, text in (
            ("regression", "^", "tab:red", "regression (gate)"),
            ("improved", "v", "tab:green", "improvement (gate)"),
        ):
            hit = part[part["flag"] == flag]
            ax.scatter(
                hit["step"],
                hit["median_s"] * scale,
                marker=marker,
                s=60,
                color=color,
                zorder=3,
                label=text,
            )
        # At least +-5% around the values: run-to-run noise should look as small as it is.
        values = pd.concat([part["median_s"], part["low_s"], part["high_s"]]).dropna() * scale
        ax.set_ylim(
            min(values.min(), values.median() * 0.95), max(values.max(), values.median() * 1.05)
        )
        ax.set_title(name if len(name) <= 48 else name[:45] + "…", fontsize=7)
        ax.set_ylabel(unit, fontsize=7)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    for ax in axes[-PANEL_COLUMNS:]:
        ax.set_xticks(range(len(labels)), labels, fontsize=6, rotation=30, ha="right")
    fixed_margins(
        figure,
        left=0.6,
        bottom=1.4,
        top=0.6,
        gap=0.45,
        title="History of single benchmarks (flagged changes first, then the largest swings)",
    )
    figure.subplots_adjust(wspace=0.3)
    legend_at_bottom(figure, list(axes[:1]) + [a for a in axes if a.collections], ncols=4)
    return figure


def _unit(values: pd.Series) -> tuple[float, str]:
    typical = float(np.nanmedian(values))
    for factor, unit in ((1.0, "s"), (1e3, "ms"), (1e6, "µs")):
        if typical * factor >= 1:
            return factor, unit
    return 1e9, "ns"


def history_section(runs: Sequence[RunResults]) -> tuple[Section, list[str]] | None:
    """The History section, or None unless `runs` are a history (see is_history)."""
    if not is_history(runs):
        return None
    history = history_frame(runs)
    steps = history["step"].max() + 1
    flagged = history[history["flag"] != ""].sort_values(["step", "name"])
    table = pd.DataFrame(
        {
            "run": flagged["label"],
            "benchmark": flagged["name"],
            "family": flagged["family"],
            "median": flagged["median_s"].map(fmt_time),
            "vs previous run": flagged["ratio"].map(fmt_ratio),
            "gate": flagged["flag"],
        }
    )
    blocks: list = [
        f"{steps} runs of one environment, ordered by the commit date recorded in each run's "
        "fingerprint. Each run is compared with the one before it by the regression gate "
        "(`tf2bench compare`: significant and above the threshold); its flags are marked.",
        Plot(
            "history_overview",
            history_overview_figure(history),
            "**Look for** a family's line leaving the dashed 1× line and staying away: that "
            "family as a whole got slower (up) or faster (down) at that commit.",
        ),
        Plot(
            "history_benchmarks",
            history_figure(history),
            "**Look at** the triangles: a red one is a step the gate would fail; a green one an "
            "improvement it would report. The band is the 95% interval of the median, so a jump "
            "that stays inside the neighbouring bands is noise.",
        ),
    ]
    if not table.empty:
        blocks.append(
            Table(table.reset_index(drop=True), "Every change the gate flags, run by run.")
        )
    regressions = (history["flag"] == "regression").sum()
    improvements = (history["flag"] == "improved").sum()
    labels = _step_labels(history)
    headline = (
        f"**History** over {steps} runs ({labels[0]} → {labels[-1]}): the gate flags {regressions} "
        f"regression(s) and {improvements} improvement(s) between consecutive runs."
    )
    return Section("History", blocks, nav="History"), [headline]
