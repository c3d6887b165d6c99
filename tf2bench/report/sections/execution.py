"""Report sections of the execution family: mode speedups, cold start, retracing."""

from __future__ import annotations

import pandas as pd

from tf2bench.records.families import family
from tf2bench.records.stats import geometric_mean
from tf2bench.report import analysis, plots
from tf2bench.report.formatting import fmt_count, fmt_ratio, fmt_ratio_ci, fmt_time, fmt_value
from tf2bench.report.render import Plot, Section, Table
from tf2bench.report.sections.common import (
    CI_NOTE,
    NOISE_NOTE,
    Columns,
    Result,
    cells,
    first_source,
    lead_columns,
    row_key,
    rows_by_key,
)

__all__ = ["SECTIONS", "cold_section", "execution_section", "retracing_section"]


def execution_section(frame: pd.DataFrame, multi: bool) -> Result:
    """Speedup of every mode over eager per workload and batch size, with bootstrap CIs."""
    speedups = analysis.execution_speedups(frame)
    if speedups.empty:
        return None
    cases = ["source", "device", "workload", "batch_size"]
    index = rows_by_key(speedups, [*cases, "mode"])
    columns: Columns = {
        **lead_columns(multi),
        "workload": lambda r: r["workload"],
        "batch": lambda r: fmt_value(r["batch_size"]),
        "eager": lambda r: fmt_time(r["eager_s"]),
    }

    def mode_cell(row: dict, mode: str, speedup: bool) -> str:
        hit = index.get((*row_key(row, cases), mode))
        if hit is None:
            return "-"
        if speedup:
            return fmt_ratio_ci(hit["speedup"], hit["ci_low"], hit["ci_high"])
        return fmt_time(hit["mode_s"], hit["noisy"])

    for mode in analysis.order_like(speedups["mode"], analysis.MODE_ORDER):
        columns[mode] = lambda r, m=mode: mode_cell(r, m, speedup=False)
        columns[f"{mode} speedup"] = lambda r, m=mode: mode_cell(r, m, speedup=True)
    section = Section(
        "Execution modes: eager vs AutoGraph vs XLA",
        question=family("execution").question,
        nav="Execution",
        blocks=[
            "The same Python function eager, under `tf.function` (AutoGraph) and under "
            "`tf.function(jit_compile=True)` (XLA). Speedup = eager median / mode median; above "
            "1× the mode is faster.",
            Plot(
                "execution_speedup",
                plots.speedup_figure(speedups),
                "Steady-state speedup of each mode over eager per workload and batch size: "
                "**look at** bars above the dashed 1× line (the mode is faster) and whether the "
                "error bars clear it.",
            ),
            Table(cells(speedups.drop_duplicates(cases), columns), f"{CI_NOTE} {NOISE_NOTE}"),
        ],
    )
    return section, _speedup_headlines(first_source(speedups))


def _speedup_headlines(speedups: pd.DataFrame) -> list[str]:
    headlines = []
    for (device, mode), rows in speedups.groupby(["device", "mode"], sort=False):
        best, worst = rows.loc[rows["speedup"].idxmax()], rows.loc[rows["speedup"].idxmin()]
        headlines.append(
            f"**{mode} vs eager** ({device}): {fmt_ratio(geometric_mean(rows['speedup']))} "
            f"geometric mean over {len(rows)} configurations; best "
            f"{fmt_ratio_ci(best['speedup'], best['ci_low'], best['ci_high'])} on "
            f"{_case(best)}, least {fmt_ratio(worst['speedup'])} on {_case(worst)}."
        )
    return headlines


def _case(row: pd.Series) -> str:
    batch = "" if pd.isna(row["batch_size"]) else f" batch {row['batch_size']:g}"
    return f"`{row['workload']}`{batch}"


def cold_section(frame: pd.DataFrame, multi: bool) -> Result:
    """The first call (tracing + compilation + run) against the steady step, per mode."""
    cold = analysis.cold_vs_steady(frame)
    if cold.empty:
        return None
    columns: Columns = {
        **lead_columns(multi),
        "workload": lambda r: r["workload"],
        "batch": lambda r: fmt_value(r["batch_size"]),
        "mode": lambda r: r["mode"],
        "cold first call": lambda r: fmt_time(r["cold_s"]),
        "first call of steady run": lambda r: fmt_time(r["first_call_s"]),
        "steady step": lambda r: fmt_time(r["steady_s"]),
        "first / steady": lambda r: fmt_ratio(r["cold_over_steady"]),
    }
    section = Section(
        "Cold start vs steady state",
        nav="Cold start",
        blocks=[
            "The first call of a freshly built step pays tracing, compilation and one run. "
            "*cold first call* is the median of the dedicated cold-start benchmark (every round "
            "built anew); *first call of steady run* is the one first call each steady "
            "benchmark recorded before its warm-up.",
            Plot(
                "cold_start",
                plots.cold_start_figure(_one_batch(cold)),
                "First call (the cold benchmark where there is one, else the recorded first "
                "call) next to the steady step, per workload and mode.",
            ),
            Table(cells(cold, columns)),
        ],
    )
    return section, _cold_headlines(cold)


def _cold_headlines(cold: pd.DataFrame) -> list[str]:
    """The worst cold start, and the same workload's first call in every mode beside it."""
    rows = first_source(cold).assign(first_s=lambda df: df["cold_s"].fillna(df["first_call_s"]))
    rows = rows.dropna(subset=["first_s"])
    if rows.empty:
        return []
    worst = rows.loc[rows["first_s"].idxmax()]
    same = rows[
        (rows["workload"] == worst["workload"])
        & (rows["device"] == worst["device"])
        & ((rows["batch_size"] == worst["batch_size"]) | pd.isna(worst["batch_size"]))
    ]
    modes = "; ".join(
        f"{r['mode']} {fmt_time(r['first_s'])} ({fmt_ratio(r['cold_over_steady'])} a steady step)"
        for r in same.drop_duplicates("mode").to_dict("records")
    )
    return [
        f"**Cold start** ({worst['device']}): the worst first call is {_case(worst)} under "
        f"{worst['mode']}, {fmt_time(worst['first_s'])}. The same workload per mode: {modes}."
    ]


def _one_batch(cold: pd.DataFrame) -> pd.DataFrame:
    """The rows at one batch size (the cold benchmarks' batch) plus batchless workloads, the
    workloads with a dedicated cold-start benchmark first."""
    dedicated = cold[cold["cold_s"].notna()]
    batches = (dedicated if not dedicated.empty else cold)["batch_size"].dropna()
    if not batches.empty:
        cold = cold[(cold["batch_size"] == batches.mode().iloc[0]) | cold["batch_size"].isna()]
    has_cold = cold["workload"].isin(dedicated["workload"])
    return pd.concat([cold[has_cold], cold[~has_cold]])


def retracing_section(frame: pd.DataFrame, multi: bool) -> Result:
    """Traces and time per sweep of input shapes for each tf.function configuration."""
    retrace = analysis.retracing(frame)
    if retrace.empty:
        return None
    columns: Columns = {
        **lead_columns(multi),
        "variant": lambda r: r["variant"],
        "traces per sweep": lambda r: fmt_count(r["tracing_count"]),
        "calls per sweep": lambda r: fmt_count(r["calls"]),
        "time per sweep": lambda r: fmt_time(r["sweep_s"], r["noisy"]),
        "time per call": lambda r: fmt_time(r["per_call_s"]),
    }
    section = Section(
        "Retracing",
        nav="Retracing",
        blocks=[
            "A fresh `tf.function` called with a new input shape on every call: how many "
            "traces each configuration pays, and what the sweep costs.",
            Plot("retracing", plots.retracing_figure(retrace), "Time and traces per sweep."),
            Table(cells(retrace, columns), NOISE_NOTE),
        ],
    )
    first = first_source(retrace)
    first = first[first["device"] == first["device"].iloc[0]]
    parts = [
        f"`{r['variant']}` {fmt_time(r['sweep_s'])} (traces: {fmt_count(r['tracing_count'])})"
        for _, r in first.iterrows()
    ]
    shapes = fmt_count(first["calls"].max())
    return section, [f"**Retracing** over {shapes} input shapes: " + "; ".join(parts) + "."]


# The family's sections in report order (its declaration names this module).
SECTIONS = (execution_section, cold_section, retracing_section)
