"""Records -> one tidy pandas DataFrame: a row per benchmark per results file, a column per field.

Column names (the report reads these, not the JSON):
    source, source_order   the file's label (see `source_labels`), its place on the command line
    name, fullname, test, label, group          pytest-benchmark's names; `test` is the function,
                                                `label` the parameter id ("cpu-mlp_train-eager-32"),
                                                `group` its family's (group_of) if the file has none
    family, workload, mode, style, device, batch_size, items_per_round, item_unit, first_call_s,
    tracing_count, throughput_per_s, preset                    the tf2bench record fields
    median_s, q1_s, q3_s, iqr_s, rounds, iqr_ratio     timing per round (seconds)
    processes, ci_low_s, ci_high_s, one_process    the 95% interval of the median over the
                           processes (records.stats.median_ci); one_process: it covers one only
    noisy                  the interval is wider than NOISE_WIDTH_THRESHOLD of the median
    disagree               the processes measured different levels (records.stats)
    samples                a float ndarray of the raw samples (seconds) or None
    process_samples        a tuple of each process's raw samples (seconds), empty without them
    pytest_params          the benchmark's pytest parameters as canonical JSON
    param_<key>, metric_<key>      the record's params and metrics, one column each
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tf2bench.records.families import group_of
from tf2bench.records.schema import BenchmarkResult, RunResults
from tf2bench.records.stats import iqr_ratio, median_ci, processes_disagree, summarize

__all__ = [
    "IDENTITY_FIELDS",
    "METRIC_PREFIX",
    "PARAM_PREFIX",
    "column",
    "family_rows",
    "identity_key",
    "results_frame",
    "source_labels",
]

# Record fields that, with the params, say which configuration a benchmark measured.
IDENTITY_FIELDS = ("family", "workload", "mode", "style", "device", "batch_size")
RECORD_FIELDS = IDENTITY_FIELDS + (
    "items_per_round",
    "item_unit",
    "first_call_s",
    "tracing_count",
    "throughput_per_s",
    "preset",
)
NUMERIC_FIELDS = (
    "batch_size",
    "items_per_round",
    "first_call_s",
    "tracing_count",
    "throughput_per_s",
)
PARAM_PREFIX = "param_"
METRIC_PREFIX = "metric_"


def source_labels(paths: Sequence[str]) -> list[str]:
    """Short unique labels for results files: the file stem, with parent folders when needed."""
    parts = [_stem(Path(path)).parts or (str(path),) for path in paths]
    depth = 1
    labels = ["/".join(p[-depth:]) for p in parts]
    while len(set(labels)) < len(labels) and depth < max(len(p) for p in parts):
        depth += 1
        labels = ["/".join(p[-depth:]) for p in parts]
    if len(set(labels)) < len(labels):  # the same file given twice
        labels = [f"{label} #{index + 1}" for index, label in enumerate(labels)]
    return labels


def _stem(path: Path) -> Path:
    """run.json.gz and run.json -> run, so a compressed file keeps its plain file's label."""
    if path.suffix == ".gz":
        path = path.with_suffix("")
    return path.with_suffix("")


def results_frame(runs: Sequence[RunResults], labels: Sequence[str] | None = None) -> pd.DataFrame:
    """The tidy frame of every benchmark of every run, in command-line order then file order."""
    labels = list(labels) if labels is not None else source_labels([run.path for run in runs])
    rows = [
        _row(bench, label, order)
        for order, (run, label) in enumerate(zip(runs, labels, strict=True))
        for bench in run.benchmarks
    ]
    frame = pd.DataFrame(rows)
    numeric = [f for f in NUMERIC_FIELDS if f in frame.columns]
    frame[numeric] = frame[numeric].astype(float)  # None -> NaN, so arithmetic stays numeric
    fixed = [c for c in frame.columns if not c.startswith((PARAM_PREFIX, METRIC_PREFIX))]
    extra = sorted(c for c in frame.columns if c.startswith((PARAM_PREFIX, METRIC_PREFIX)))
    return frame[fixed + extra].reset_index(drop=True)


def column(frame: pd.DataFrame, name: str, default: Any = math.nan) -> pd.Series:
    """frame[name], or a column of `default` when no record had that field."""
    if name in frame.columns:
        return frame[name]
    return pd.Series(default, index=frame.index, dtype=object if default is None else None)


def family_rows(frame: pd.DataFrame, family: str) -> pd.DataFrame:
    """The rows of one benchmark family."""
    return frame[frame["family"] == family]


def identity_key(
    frame: pd.DataFrame, vary: Iterable[str] = (), *, by_test: bool = True
) -> pd.Series:
    """A string per row naming its configuration with the fields in `vary` left out.

    Two rows with the same key measured the same thing except for `vary` (for example the
    same step eager and under XLA when vary=("mode",)). The key covers the source file, the
    identity fields, every record param and, with by_test, the test function and its pytest
    parameters; so parameters this module does not know (threads, precision) keep apart.
    """
    vary = set(vary)
    fields = [f for f in ("source", *IDENTITY_FIELDS) if f not in vary]
    params = [c for c in frame.columns if c.startswith(PARAM_PREFIX)]
    params = [c for c in params if c.removeprefix(PARAM_PREFIX) not in vary]

    def key(row: dict[str, Any]) -> str:
        parts: dict[str, Any] = {f: _plain(row[f]) for f in fields}
        parts.update({c: _plain(row[c]) for c in params})
        if by_test:
            pytest_params = json.loads(row["pytest_params"])
            parts["test"] = row["test"]
            parts["pytest"] = {k: v for k, v in pytest_params.items() if k not in vary}
        return json.dumps(parts, sort_keys=True, default=str)

    # NOTE: rows as plain dicts (to_dict), several times faster than DataFrame.apply.
    columns = [*fields, *params, *(("pytest_params", "test") if by_test else ())]
    rows = frame[columns].to_dict("records")
    return pd.Series([key(row) for row in rows], index=frame.index, dtype=object)


def _row(bench: BenchmarkResult, source: str, order: int) -> dict[str, Any]:
    record = bench.record
    row: dict[str, Any] = {
        "source": source,
        "source_order": order,
        "name": bench.name,
        "fullname": bench.fullname,
        "test": bench.fullname.split("[", 1)[0],
        "label": _label(bench),
        "group": bench.group or group_of(record),
    }
    row.update({field: getattr(record, field) for field in RECORD_FIELDS})
    row.update(_timing(bench))
    row["pytest_params"] = json.dumps(bench.params, sort_keys=True, default=str)
    row.update({PARAM_PREFIX + key: _plain(value) for key, value in record.params.items()})
    row.update({METRIC_PREFIX + key: float(value) for key, value in record.metrics.items()})
    return row


def _timing(bench: BenchmarkResult) -> dict[str, Any]:
    samples = np.asarray(bench.samples, dtype=float) if bench.samples else None
    stats = bench.stats
    median = float(stats["median"])
    q1, q3 = stats.get("q1"), stats.get("q3")
    if (q1 is None or q3 is None) and samples is not None:
        summary = summarize(samples)
        q1, q3 = summary.q1, summary.q3
    iqr = float(stats["iqr"]) if "iqr" in stats else _difference(q3, q1)
    rounds = stats.get("rounds", len(samples) if samples is not None else math.nan)
    interval = median_ci(bench.process_samples)
    return {
        "median_s": median,
        "q1_s": math.nan if q1 is None else float(q1),
        "q3_s": math.nan if q3 is None else float(q3),
        "iqr_s": iqr,
        "rounds": rounds,
        "iqr_ratio": iqr_ratio(median, iqr),
        "processes": interval.processes,
        "ci_low_s": interval.low,
        "ci_high_s": interval.high,
        "one_process": interval.one_process,
        "noisy": interval.noisy,
        "disagree": processes_disagree(bench.process_samples).flagged,
        "samples": samples,
        "process_samples": bench.process_samples,
    }


def _label(bench: BenchmarkResult) -> str:
    if "[" in bench.name and bench.name.endswith("]"):
        return bench.name[bench.name.index("[") + 1 : -1]
    return bench.record.label() or bench.name


def _difference(high: float | None, low: float | None) -> float:
    return math.nan if high is None or low is None else float(high) - float(low)


def _plain(value: Any) -> Any:
    """A hashable, JSON-friendly scalar (NaN and None both become None)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    if isinstance(value, (list, dict, tuple)):
        return json.dumps(value, sort_keys=True, default=str)
    return value
