"""The model_styles family: each style's time relative to one baseline style, with intervals.

The question is "how much overhead does a style add?", so every number is a ratio to the
same network, op, mode and batch built as BASELINE_STYLE, with a bootstrap interval; "within
noise" shows as an interval that crosses 1x.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from tf2bench.records.families import family
from tf2bench.records.stats import geometric_mean
from tf2bench.report.analysis import STYLE_ORDER, order_like, paired_rows, ratio_columns
from tf2bench.report.axes import fixed_margins, label_inches, legend_at_bottom, log_axis
from tf2bench.report.formatting import NOISY_MARK, fmt_ratio, fmt_ratio_ci, fmt_time, fmt_value
from tf2bench.report.frames import column
from tf2bench.report.render import Plot, Section, Table
from tf2bench.report.sections.common import (
    CI_NOTE,
    NOISE_NOTE,
    REPORT_RESAMPLES,
    Columns,
    Result,
    cells,
    first_source,
    lead_columns,
    row_key,
    rows_by_key,
)

__all__ = [
    "BASELINE_STYLE",
    "OP_ORDER",
    "SECTIONS",
    "style_overhead_figure",
    "style_ratios",
    "styles_section",
]

# The Keras default, and the one style every op is measured with (lowlevel has no predict/fit).
BASELINE_STYLE = "functional"
OP_ORDER = (
    "build",
    "first_call",
    "call",
    "predict_on_batch",
    "predict",
    "train_on_batch",
    "custom_train",
)
STYLE_COLORS = {"lowlevel": "tab:gray", "sequential": "tab:blue", "subclassed": "tab:orange"}


def _case(rows: pd.DataFrame, multi: bool) -> pd.Series:
    """network · mode · batch N (· device · run when there are several)."""
    parts = [rows["network"]]
    parts.append(rows["mode"].map(lambda m: "" if pd.isna(m) else f" · {m}"))
    parts.append(rows["batch_size"].map(lambda b: "" if pd.isna(b) else f" · batch {b:g}"))
    if rows["device"].nunique() > 1:
        parts.append(" · " + rows["device"].astype(str))
    if multi:
        parts.append(" · " + rows["source"].astype(str))
    label = parts[0]
    for part in parts[1:]:
        label = label + part
    return label


def _sorted(rows: pd.DataFrame) -> pd.DataFrame:
    """Op in OP_ORDER, then network, mode, and batch size in numeric order."""
    ops = order_like(rows["op"], OP_ORDER)
    modes = {m: i for i, m in enumerate(order_like(rows["mode"], ("eager", "autograph", "xla")))}
    networks = {n: i for i, n in enumerate(dict.fromkeys(rows["network"]))}
    return (
        rows.assign(
            _op=rows["op"].map({o: i for i, o in enumerate(ops)}),
            _net=rows["network"].map(networks),
            _mode=rows["mode"].map(modes).fillna(-1),
        )
        .sort_values(["source_order", "_op", "device", "_net", "_mode", "batch_size"])
        .drop(columns=["_op", "_net", "_mode"])
        .reset_index(drop=True)
    )


def style_ratios(frame: pd.DataFrame) -> pd.DataFrame:
    """Each style's step time over BASELINE_STYLE's, per op, network, mode and batch size.

    Columns: source, source_order, device, network, op, mode, batch_size, style, step_s,
    baseline_s, ratio, ci_low, ci_high (bootstrap, 95%), noisy (either side noisy).
    Sorted by op, network, mode and numeric batch size.
    """
    data = frame[frame["family"] == "model_styles"]
    if data.empty or not (data["style"] == BASELINE_STYLE).any():
        return pd.DataFrame()
    data = data.assign(op=column(data, "param_op", None).fillna("?"))
    paired = paired_rows(data, "style", BASELINE_STYLE)
    if paired.empty:
        return pd.DataFrame()
    paired = ratio_columns(paired, "", "_ref", resamples=REPORT_RESAMPLES)
    result = pd.DataFrame(
        {
            "source": paired["source"],
            "source_order": paired["source_order"],
            "device": paired["device"],
            "network": paired["workload"],
            "op": paired["op"],
            "mode": paired["mode"],
            "batch_size": paired["batch_size"],
            "style": paired["style"],
            "step_s": paired["median_s"],
            "baseline_s": paired["median_s_ref"],
            "ratio": paired["ratio"],
            "ci_low": paired["ci_low"],
            "ci_high": paired["ci_high"],
            "noisy": paired["noisy"] | paired["noisy_ref"],
        }
    )
    return _sorted(result)


def style_overhead_figure(ratios: pd.DataFrame) -> Figure:
    """Dot plot: one panel per op, a row per network/mode/batch, a dot per style at its time
    ratio to the baseline style with its 95% interval; every panel shares one log x axis."""
    multi = ratios["source"].nunique() > 1
    rows = ratios.assign(case=_case(ratios, multi))
    ops = order_like(rows["op"], OP_ORDER)
    counts = [rows.loc[rows["op"] == op, "case"].nunique() for op in ops]
    figure = Figure(figsize=(9, 0.19 * sum(counts) + 0.35 * len(ops) + 1.4))
    axes = figure.subplots(len(ops), 1, sharex=True, squeeze=False, height_ratios=counts).ravel()
    styles = order_like(rows["style"], STYLE_ORDER)
    step = 0.6 / max(len(styles), 1)
    for ax, op in zip(axes, ops, strict=True):
        part = rows[rows["op"] == op]
        cases = list(dict.fromkeys(part["case"]))
        for index, style in enumerate(styles):
            dots = part[part["style"] == style]
            y = (
                np.array([cases.index(c) for c in dots["case"]])
                + (index - (len(styles) - 1) / 2) * step
            )
            errors = np.array([dots["ratio"] - dots["ci_low"], dots["ci_high"] - dots["ratio"]])
            ax.errorbar(
                dots["ratio"],
                y,
                xerr=np.nan_to_num(errors),
                fmt="o",
                markersize=3.5,
                elinewidth=1,
                capsize=0,
                color=STYLE_COLORS.get(style, f"C{index + 3}"),
                label=style,
            )
        ax.axvline(1.0, color="black", linewidth=1, label=f"{BASELINE_STYLE} (baseline, 1×)")
        ax.set_yticks(range(len(cases)), cases, fontsize=7)
        ax.set_ylim(len(cases) - 0.5, -0.5)
        ax.set_title(f"op: {op}", fontsize=9, loc="left")
        ax.grid(axis="x", which="both", alpha=0.3)
    # The axis spans the ratios, not the intervals: a 5-round first call's interval can reach
    # 1000x and would squash every other dot; longer bars run off the edge (the table has them).
    finite = rows["ratio"][np.isfinite(rows["ratio"]) & (rows["ratio"] > 0)]
    low = min(float(finite.min()) / 1.3, 0.8) if not finite.empty else 0.5
    high = max(float(finite.max()) * 1.3, 1.25) if not finite.empty else 2.0
    axes[-1].set_xlim(low, high)
    log_axis(axes[-1], "x")
    axes[-1].set_xlabel(f"time relative to the {BASELINE_STYLE} model (×, log; right = slower)")
    fixed_margins(
        figure,
        left=label_inches(rows["case"]),
        bottom=0.95,
        top=0.75,
        title=(
            f"Model-style overhead: each style's time / the {BASELINE_STYLE} model's "
            "(dots: ratio of medians; bars: 95% bootstrap interval)"
        ),
        gap=0.35,
    )
    legend_at_bottom(figure, list(axes[:1]), ncols=4)
    return figure


def styles_section(frame: pd.DataFrame, multi: bool) -> Result:
    """Model styles: overhead of each style over the baseline style, figure, table, headline."""
    ratios = style_ratios(frame)
    declared = family("model_styles")
    if ratios.empty:
        return _without_baseline(frame, multi, declared)
    styles = order_like(ratios["style"], STYLE_ORDER)
    keys = ["source", "device", "network", "op", "mode", "batch_size"]
    base = ratios.drop_duplicates(keys)
    columns: Columns = {
        **lead_columns(multi),
        "network": lambda r: r["network"],
        "op": lambda r: r["op"],
        "mode": lambda r: fmt_value(r["mode"]),
        "batch": lambda r: fmt_value(r["batch_size"]),
        BASELINE_STYLE: lambda r: fmt_time(r["baseline_s"]),
    }
    index = rows_by_key(ratios, [*keys, "style"])
    for style in styles:

        def cell(row: dict, style: str = style) -> str:
            hit = index.get((*row_key(row, keys), style))
            if hit is None:
                return "-"
            mark = f" {NOISY_MARK}" if hit["noisy"] else ""
            return fmt_ratio_ci(hit["ratio"], hit["ci_low"], hit["ci_high"]) + mark

        columns[f"{style} / {BASELINE_STYLE}"] = cell
    blocks: list = [
        f"The same network built four ways, each timed as a ratio to the **{BASELINE_STYLE}** "
        "model of the same op, mode and batch (the one style every op is measured with). "
        "Above 1× a style is slower; an interval that crosses 1× means no difference beyond "
        "the noise.",
        Plot(
            "styles_overhead",
            style_overhead_figure(ratios),
            f"**Look at** whether a style's dots sit off the black 1× line with their bars clear "
            f"of it: only then is that style measurably slower (right) or faster (left) than "
            f"{BASELINE_STYLE}. All panels share one axis, so distances compare across ops; "
            "bars that run off the edge are wider than the axis (see the table).",
        ),
        Table(
            cells(base, columns),
            f"Model styles: the {BASELINE_STYLE} time per round and each style's ratio to it, "
            f"batches in numeric order. {CI_NOTE} {NOISE_NOTE}",
        ),
    ]
    section = Section(declared.title, blocks, question=declared.question, nav="Model styles")
    return section, _headlines(first_source(ratios))


def _without_baseline(frame: pd.DataFrame, multi: bool, declared) -> Result:
    """Without the baseline style there is no ratio to draw: the times, as a table."""
    data = frame[frame["family"] == "model_styles"]
    if data.empty:
        return None
    data = data.assign(op=column(data, "param_op", None).fillna("?"))
    columns: Columns = {
        **lead_columns(multi),
        "network": lambda r: r["workload"],
        "op": lambda r: r["op"],
        "style": lambda r: fmt_value(r["style"]),
        "batch": lambda r: fmt_value(r["batch_size"]),
        "time per round": lambda r: fmt_time(r["median_s"], r["noisy"]),
    }
    text = f"No `{BASELINE_STYLE}` model was measured, so no style can be set against it."
    blocks = [text, Table(cells(data, columns), NOISE_NOTE)]
    return Section(declared.title, blocks, question=declared.question, nav="Model styles"), []


def _headlines(ratios: pd.DataFrame) -> list[str]:
    parts = []
    for style, rows in ratios.groupby("style", sort=False):
        clear = rows[(rows["ci_low"] > 1) | (rows["ci_high"] < 1)]
        parts.append(
            f"{style} {fmt_ratio(geometric_mean(rows['ratio']))} "
            f"({len(rows) - len(clear)} of {len(rows)} within noise)"
        )
    clear = ratios[ratios["ci_low"] > 1]
    worst = (clear if not clear.empty else ratios).loc[lambda df: df["ratio"].idxmax()]
    where = f"`{worst['op']}` on `{worst['network']}`"
    if pd.notna(worst["batch_size"]):
        where += f" batch {worst['batch_size']:g}"
    # "Clear" only when the interval excludes 1x; else the largest ratio is said to be noise.
    label = "Largest clear overhead" if not clear.empty else "No clear overhead; largest ratio"
    return [
        f"**Model styles** vs {BASELINE_STYLE} (geometric mean of time ratios): "
        + "; ".join(parts)
        + f". {label}: {worst['style']} "
        f"{fmt_ratio_ci(worst['ratio'], worst['ci_low'], worst['ci_high'])} on {where}."
    ]


# The family's sections in report order (its declaration names this module).
SECTIONS = (styles_section,)
