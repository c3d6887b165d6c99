"""The input_pipeline family: what each tf.data stage buys, as a ratio to the pipeline without it.

Pipeline variants are named by their stages ("seed+par+vec+b32"). A stage's effect is the
throughput of a variant over the variant with exactly that stage removed, with a bootstrap
interval; above 1x the stage speeds the pipeline up.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from tf2bench.records.families import family
from tf2bench.records.stats import ratio_ci
from tf2bench.report import analysis, plots
from tf2bench.report.axes import fixed_margins, label_inches, legend_at_bottom, log_axis
from tf2bench.report.formatting import (
    NOISY_MARK,
    fmt_percent,
    fmt_rate,
    fmt_ratio,
    fmt_ratio_ci,
    fmt_time,
    fmt_value,
)
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
)

__all__ = ["SECTIONS", "pipeline_section", "stage_effects", "stage_figure"]

STAGE_SEPARATOR = "+"


def stage_effects(frame: pd.DataFrame) -> pd.DataFrame:
    """For each pipeline variant and each of its stages whose removal is also measured: the
    throughput ratio with / without that stage, with a bootstrap interval.

    Columns: source, source_order, device, stage, base (the variant without the stage),
    variant, with_per_s, without_per_s, ratio, ci_low, ci_high, noisy.
    """
    data = frame[(frame["family"] == "input_pipeline") & (frame["workload"] == "pipeline")]
    if data.empty:
        return pd.DataFrame()
    data = data.assign(variant=column(data, "param_variant", None).fillna(data["label"]))
    rows = []
    for _, part in data.groupby(["source", "device"], sort=False):
        by_stages = {
            frozenset(str(v).split(STAGE_SEPARATOR)): r
            for v, r in zip(part["variant"], part.to_dict("records"), strict=True)
        }
        for stages, with_row in by_stages.items():
            for stage in sorted(stages, key=str(with_row["variant"]).find):
                without = by_stages.get(stages - {stage})
                if without is None or len(stages) < 2:
                    continue
                rows.append(_effect(with_row, without, stage))
    if not rows:
        return pd.DataFrame()
    effects = pd.DataFrame(rows)
    order = {s: i for i, s in enumerate(dict.fromkeys(effects["stage"]))}
    effects["_stage"] = effects["stage"].map(order)
    return (
        effects.sort_values(["source_order", "device", "_stage"])
        .drop(columns="_stage")
        .reset_index(drop=True)
    )


def _effect(with_row: dict, without: dict, stage: str) -> dict:
    # Elements/s ratio = (items_w / t_w) / (items_wo / t_wo) = (t_wo / t_w) * (items_w / items_wo).
    items = with_row["items_per_round"] / without["items_per_round"]
    ci = ratio_ci(
        without["process_samples"],
        with_row["process_samples"],
        numerator_median=without["median_s"],
        denominator_median=with_row["median_s"],
        resamples=REPORT_RESAMPLES,
    )
    return {
        "source": with_row["source"],
        "source_order": with_row["source_order"],
        "device": with_row["device"],
        "stage": stage,
        "base": without["variant"],
        "variant": with_row["variant"],
        "with_per_s": with_row["throughput_per_s"],
        "without_per_s": without["throughput_per_s"],
        "ratio": ci.ratio * items,
        "ci_low": ci.low * items,
        "ci_high": ci.high * items,
        "noisy": bool(with_row["noisy"] or without["noisy"]),
    }


def stage_figure(effects: pd.DataFrame) -> Figure:
    """Dot plot: a row per (stage, pipeline it was added to), the throughput ratio with its
    interval on one log axis; green right of 1x (the stage helps), red left (it costs)."""
    multi = effects["source"].nunique() > 1 or effects["device"].nunique() > 1
    labels = [
        f"+{stage}  on {base}" + (f"  ({source}, {device})" if multi else "")
        for stage, base, source, device in zip(
            effects["stage"], effects["base"], effects["source"], effects["device"], strict=True
        )
    ]
    figure = Figure(figsize=(9, 0.22 * len(effects) + 1.7))
    ax = figure.subplots()
    y = np.arange(len(effects))
    ratio = effects["ratio"].to_numpy(dtype=float)
    errors = np.nan_to_num(np.array([ratio - effects["ci_low"], effects["ci_high"] - ratio]))
    low, high = effects["ci_low"].to_numpy(dtype=float), effects["ci_high"].to_numpy(dtype=float)
    verdict = np.where(low > 1, 0, np.where(high < 1, 1, 2))  # NaN intervals count as noise
    for code, color, label in (
        (0, "tab:green", "speeds up (interval above 1×)"),
        (1, "tab:red", "slows down (interval below 1×)"),
        (2, "tab:gray", "within noise (interval crosses 1×)"),
    ):
        chosen = verdict == code
        ax.errorbar(
            ratio[chosen],
            y[chosen],
            xerr=errors[:, chosen],
            fmt="o",
            markersize=4,
            elinewidth=1.2,
            color=color,
            label=label,
        )
    ax.axvline(1.0, color="black", linewidth=1, label="no effect (1×)")
    ax.set_yticks(y, labels, fontsize=7)
    ax.set_ylim(len(effects) - 0.5, -0.5)
    log_axis(ax, "x")
    ax.set_xlabel("throughput with the stage / without it (×, log)")
    ax.set_title(
        "tf.data: effect of adding one stage (dots: ratio of elements/s; bars: 95% bootstrap "
        "interval)",
        fontsize=10,
    )
    ax.grid(axis="x", which="both", alpha=0.3)
    fixed_margins(figure, left=label_inches(labels), bottom=1.0, top=0.4)
    legend_at_bottom(figure, [ax], ncols=2)
    return figure


def pipeline_section(frame: pd.DataFrame, multi: bool) -> Result:
    """tf.data: stage effects, throughput against the raw limit, and the input-bound fraction."""
    effects = stage_effects(frame)
    pipes, consumer = analysis.pipeline_throughput(frame), analysis.consumer_bound(frame)
    if effects.empty and pipes.empty and consumer.empty:
        return None
    declared = family("input_pipeline")
    blocks: list = [
        "Stages are named in each variant (`seed+par+vec+b32`: the seed pipeline with a "
        "parallel map, vectorized map and batch 32). A stage's effect is the throughput of a "
        "variant over the variant measured without that one stage."
    ]
    headlines = []
    if not effects.empty:
        columns: Columns = {
            **lead_columns(multi),
            "stage": lambda r: f"+{r['stage']}",
            "added to": lambda r: r["base"],
            "without": lambda r: fmt_rate(r["without_per_s"]),
            "with": lambda r: fmt_rate(r["with_per_s"]) + (f" {NOISY_MARK}" if r["noisy"] else ""),
            "with / without": lambda r: fmt_ratio_ci(r["ratio"], r["ci_low"], r["ci_high"]),
        }
        blocks += [
            Plot(
                "tfdata_stages",
                stage_figure(effects),
                "**Look at** which side of the 1× line each dot falls and whether its bar "
                "crosses the line: green, the stage makes the pipeline faster; red, slower; gray, "
                "within noise.",
            ),
            Table(
                cells(effects, columns),
                f"tf.data stage effects (elements/s). {CI_NOTE} {NOISE_NOTE}",
            ),
        ]
        rows = first_source(effects)
        best, worst = rows.loc[rows["ratio"].idxmax()], rows.loc[rows["ratio"].idxmin()]
        headlines.append(
            f"**tf.data stages**: the largest gain is `+{best['stage']}` on `{best['base']}` "
            f"({fmt_ratio_ci(best['ratio'], best['ci_low'], best['ci_high'])} the elements/s); "
            f"the largest cost `+{worst['stage']}` on `{worst['base']}` "
            f"({fmt_ratio(worst['ratio'])})."
        )
    if not pipes.empty:
        columns = {
            **lead_columns(multi),
            "batch": lambda r: fmt_value(r["batch_size"]),
            "variant": lambda r: (
                r["variant"] if r["workload"] == "pipeline" else f"{r['workload']}: {r['variant']}"
            ),
            "elements/s": lambda r: (
                fmt_rate(r["elements_per_s"]) + (f" {NOISY_MARK}" if r["noisy"] else "")
            ),
            "batches/s": lambda r: fmt_rate(r["batches_per_s"]),
            "of copy bound": lambda r: fmt_percent(r["ratio_to_copy_bound"]),
            "of NumPy feed": lambda r: fmt_percent(r["ratio_to_limit"]),
            "first batch": lambda r: fmt_time(r["first_batch_s"]),
        }
        blocks.append(
            Table(
                cells(pipes, columns),
                "tf.data throughput per variant. *Of copy bound*: over the upper bound on any "
                "pipeline, the machine's memory-copy bandwidth for the same bytes on all cores; "
                "*of NumPy feed*: over the same bytes sliced batch by batch from NumPy in "
                f"Python, a reference that pipelines can beat, not a limit. {NOISE_NOTE}",
            )
        )
        # Only pipelines that map and shuffle compete: one without them does less work.
        ranked = first_source(pipes[pipes["does_work"]]).dropna(subset=["elements_per_s"])
        if not ranked.empty:
            best = ranked.loc[ranked["elements_per_s"].idxmax()]
            bound = best["ratio_to_copy_bound"]
            share = "" if pd.isna(bound) else f", {fmt_percent(bound)} of the memory-copy bound"
            headlines.append(
                f"**tf.data fastest**: of the pipelines that map and shuffle, "
                f"`{best['variant']}` at {fmt_rate(best['elements_per_s'])} elements (batch "
                f"{fmt_value(best['batch_size'])}{share})."
            )
    if not consumer.empty:
        columns = {
            **lead_columns(multi),
            "batch": lambda r: fmt_value(r["batch_size"]),
            "variant": lambda r: r["variant"],
            "step time": lambda r: fmt_time(r["step_s"], r["noisy"]),
            "input-bound": lambda r: fmt_percent(r["input_bound_fraction"]),
        }
        blocks += [
            Plot(
                "tfdata_input_bound",
                plots.input_bound_figure(consumer),
                "Share of each consumer step spent waiting for input: **look for** short bars "
                "(the pipeline keeps up with the model).",
            ),
            Table(cells(consumer, columns), NOISE_NOTE),
        ]
    section = Section(declared.title, blocks, question=declared.question, nav="tf.data")
    return section, headlines


# The family's sections in report order (its declaration names this module).
SECTIONS = (pipeline_section,)
