"""Report sections across families: inputs, CPU vs GPU, runs side by side, distributions, noise."""

from __future__ import annotations

import re
from collections.abc import Sequence

import pandas as pd

from tf2bench.records import families as registry
from tf2bench.records.families import family
from tf2bench.records.schema import RunResults
from tf2bench.records.stats import DISAGREE_EFFECT_FLOOR, NOISE_WIDTH_THRESHOLD, geometric_mean
from tf2bench.report import plots_runs
from tf2bench.report.analysis import device_speedups, source_ratios
from tf2bench.report.distributions import CLIP_QUANTILE, distribution_svg, group_panels
from tf2bench.report.formatting import (
    fmt_count,
    fmt_rate,
    fmt_ratio,
    fmt_ratio_ci,
    fmt_time,
    fmt_value,
)
from tf2bench.report.frames import METRIC_PREFIX, PARAM_PREFIX
from tf2bench.report.plots_runs import short_labels
from tf2bench.report.render import Plot, Section, Table
from tf2bench.report.sections.common import (
    CI_NOTE,
    NOISE_NOTE,
    Columns,
    Result,
    cells,
    lead_columns,
)

__all__ = [
    "appendix_section",
    "device_section",
    "distributions_section",
    "inputs_section",
    "noisy_section",
    "other_section",
    "sources_section",
]


def inputs_section(runs: Sequence[RunResults], labels: Sequence[str]) -> Section:
    """One row per results file: its label, environment fingerprint and contents."""
    rows = []
    for run, label in zip(runs, labels, strict=True):
        fingerprint = run.fingerprint
        rows.append(
            {
                "run": label,
                "file": run.path,
                "date": (run.datetime or "-")[:19],
                "fingerprint": run.fingerprint_id,
                "TensorFlow": fingerprint.get("tensorflow", "-"),
                "devices": ", ".join(fingerprint.get("physical_devices") or []) or "-",
                "CPU": f"{fingerprint.get('cpu_model', '-')} "
                f"({fingerprint.get('cpu_count', '?')} cores)",
                "benchmarks": str(len(run.benchmarks)),
                "families": ", ".join(dict.fromkeys(b.record.family for b in run.benchmarks)),
            }
        )
    text = (
        "Times are medians per round (one step, sweep or batch of calls, as each benchmark "
        "defines it) of pytest-benchmark's raw samples. Runs with different fingerprints "
        f"come from different environments. {NOISE_NOTE}"
    )
    return Section("Inputs", [text, Table(pd.DataFrame(rows))])


def device_section(frame: pd.DataFrame, multi: bool) -> Result:
    """Benchmarks that ran on both CPU and GPU: the GPU speedup with a bootstrap CI."""
    devices = device_speedups(frame)
    if devices.empty:
        return None
    columns: Columns = {
        **lead_columns(multi, device=False),
        "family": lambda r: r["family"],
        "benchmark": lambda r: r["label"],
        "cpu": lambda r: fmt_time(r["cpu_s"]),
        "gpu": lambda r: fmt_time(r["gpu_s"], r["noisy"]),
        "gpu speedup": lambda r: fmt_ratio_ci(r["speedup"], r["ci_low"], r["ci_high"]),
    }
    section = Section(
        "CPU vs GPU",
        [
            "Benchmarks that ran on both devices; speedup = CPU median / GPU median.",
            Plot("cpu_vs_gpu", plots_runs.device_figure(devices), "GPU speedup over CPU."),
            Table(cells(devices, columns), f"{CI_NOTE} {NOISE_NOTE}"),
        ],
    )
    mean = fmt_ratio(geometric_mean(devices["speedup"]))
    return section, [
        f"**GPU vs CPU**: {mean} geometric-mean speedup over the {len(devices)} benchmarks "
        "that ran on both."
    ]


def sources_section(frame: pd.DataFrame, multi: bool) -> Result:
    """Every later results file against the first, matched by benchmark name."""
    ratios = source_ratios(frame)
    if ratios.empty:
        return None
    base = ratios["base"].iloc[0]
    columns: Columns = {
        "benchmark": lambda r: r["name"],
        "family": lambda r: r["family"],
        "run": lambda r: r["other"],
        "baseline time": lambda r: fmt_time(r["base_s"]),
        "time": lambda r: fmt_time(r["other_s"], r["noisy"]),
        "time / baseline": lambda r: fmt_ratio_ci(r["ratio"], r["ci_low"], r["ci_high"]),
    }
    section = Section(
        "Runs side by side",
        [
            f"Every later file against the first (`{base}`), matched by benchmark name; a time "
            "ratio above 1× means the later run is slower. See Inputs for each run's "
            "environment; `tf2bench compare` tests such changes for significance.",
            Plot(
                "runs_side_by_side",
                plots_runs.source_ratio_figure(ratios),
                f"Speed of each run relative to {base}, per benchmark.",
            ),
            Table(cells(ratios, columns), f"{CI_NOTE} {NOISE_NOTE}"),
        ],
    )
    headlines = [
        f"**{other} vs {base}**: time ratio {fmt_ratio(geometric_mean(rows['ratio']))} "
        f"(geometric mean over {len(rows)} matched benchmarks)."
        for other, rows in ratios.groupby("other", sort=False)
    ]
    return section, headlines


def generic_table(rows: pd.DataFrame, multi: bool) -> pd.DataFrame:
    """Any benchmarks as a table: name, family, median, spread, throughput, params, metrics."""
    extras = [c for c in rows.columns if c.startswith((PARAM_PREFIX, METRIC_PREFIX))]

    def details(row: dict) -> str:
        shown = [(c.split("_", 1)[1], fmt_value(row[c])) for c in extras]
        return ", ".join(f"{name}={value}" for name, value in shown if value != "-") or "-"

    columns: Columns = {
        **({"run": lambda r: r["source"]} if multi else {}),
        "benchmark": lambda r: r["name"],
        "family": lambda r: r["family"],
        "median": lambda r: fmt_time(r["median_s"], r["noisy"]),
        "IQR / median": lambda r: "-" if pd.isna(r["iqr_ratio"]) else f"{r['iqr_ratio']:.1%}",
        "rounds": lambda r: fmt_count(r["rounds"]),
        "throughput": lambda r: fmt_rate(r["throughput_per_s"]).replace(
            "/s", f" {r['item_unit']}/s"
        ),
        "params and metrics": details,
    }
    return cells(rows, columns)


def other_section(frame: pd.DataFrame, multi: bool) -> Result:
    """Families without a report module of their own (undeclared here, or declared without)."""
    reported = [declared.name for declared in registry.FAMILIES if declared.report]
    other = frame[~frame["family"].isin(reported)]
    if other.empty:
        return None
    families = ", ".join(f"`{family}`" for family in dict.fromkeys(other["family"]))
    text = f"Families without a dedicated section: {families}."
    return Section("Other results", [text, Table(generic_table(other, multi), NOISE_NOTE)]), []


def distributions_section(frame: pd.DataFrame, multi: bool) -> Result:
    """Box plots of the raw samples of every benchmark group, one figure per family."""
    rows = frame[frame["samples"].notna()]
    if rows.empty:
        return None
    blocks: list = [
        f"Box plots of the raw samples of all {rows['group'].nunique()} benchmark groups, a "
        "figure per family (box: quartiles, red: median, whiskers: 1.5 IQR, dots: outliers). "
        f"Each panel's axis ends at the {CLIP_QUANTILE:.0%} quantile of its samples so a rare "
        "stall cannot squash the rest; ▸n counts the samples beyond it."
    ]
    for family_name, part in rows.groupby("family", sort=False):
        groups = []
        for group, members in part.groupby("group", sort=False):
            labels = short_labels(members)
            if multi:
                labels = [
                    f"{label} · {run}" for label, run in zip(labels, members["source"], strict=True)
                ]
            labels, samples = group_panels(members, labels)
            title = re.sub(r"\s*\w+=None\b", "", str(group))
            groups.append((title, labels, samples))
        title = _family_title(family_name)
        blocks.append(
            Plot(
                f"distributions_{family_name}",
                distribution_svg(groups),
                f"{title}: latency distribution of each benchmark, grouped as run. **Look for** "
                "wide boxes and long whiskers: those results need more rounds before a small "
                "difference means anything.",
            )
        )
    return Section("Latency distributions", blocks, nav="Distributions"), []


def _family_title(name: str) -> str:
    try:
        return family(name).title
    except KeyError:
        return name


NAMED_DISAGREEMENTS = 5


def noisy_section(frame: pd.DataFrame, multi: bool) -> Result:
    """The noisy results (wide interval of the median) and those whose processes disagree."""
    noisy = frame[frame["noisy"] | frame["disagree"]]
    one = int(frame["one_process"].sum())
    text = (
        f"{int(frame['noisy'].sum())} of {len(frame)} results are noisy (the 95% interval of "
        f"the median is wider than {NOISE_WIDTH_THRESHOLD:.0%} of it); re-run them on a quieter "
        "machine before trusting a small difference."
    )
    if frame["disagree"].any():
        names = frame.loc[frame["disagree"], "name"].astype(str).tolist()
        # The headline names a few; the table below lists them all.
        more = (
            f" and {len(names) - NAMED_DISAGREEMENTS} more"
            if len(names) > NAMED_DISAGREEMENTS
            else ""
        )
        text += (
            f" In {len(names)} the processes disagree (their medians differ "
            f"significantly and by more than {DISAGREE_EFFECT_FLOOR:.0%}): "
            + ", ".join(names[:NAMED_DISAGREEMENTS])
            + f"{more}."
        )
    if one:
        text += f" {one} results ran in one process: their interval covers that process only."
    blocks: list = [text] + ([Table(generic_table(noisy, multi))] if not noisy.empty else [])
    return Section("Noisy results", blocks), [f"**Noise**: {text}"]


def appendix_section(frame: pd.DataFrame, multi: bool) -> Section:
    """Every benchmark of every file, so nothing in the data is left out of the report."""
    return Section(
        "All results",
        ["Every benchmark of every file, in file order.", Table(generic_table(frame, multi))],
    )
