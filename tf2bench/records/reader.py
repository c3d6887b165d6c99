"""pytest-benchmark JSON written by tf2bench -> plain data: RunResults of BenchmarkResults.

A results file is pytest-benchmark's JSON. tf2bench adds a versioned block under each
benchmark's ``extra_info["tf2bench"]`` (records/record.py) and the environment fingerprint under
``machine_info["tf2bench"]``.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tf2bench.errors import RecordError
from tf2bench.records.files import read_results_text
from tf2bench.records.inputs import decode_json
from tf2bench.records.record import BLOCK_KEY, BenchRecord, is_scalar, short_repr

__all__ = [
    "COMPARABLE_FINGERPRINT_KEYS",
    "BenchmarkResult",
    "RunResults",
    "fingerprint_id",
    "load_results",
    "parse_results",
]

# Fingerprint fields that must agree for two runs to be compared without --force.
COMPARABLE_FINGERPRINT_KEYS = (
    "tensorflow",
    "keras",
    "cuda_version",
    "cudnn_version",
    "physical_devices",
    "cpu_model",
    "cpu_count",
    "intra_op_threads",
    "inter_op_threads",
    "onednn_opts",
    "xla_flags",
)


@dataclass(frozen=True)
class BenchmarkResult:
    """One benchmark of a results file as plain data: its name, stats, raw samples and record."""

    name: str
    fullname: str
    group: str | None
    params: dict[str, Any]
    stats: dict[str, float]
    samples: tuple[float, ...] | None
    record: BenchRecord
    # Raw samples (seconds) of each process that measured the benchmark, in process order;
    # empty when the file kept no raw samples.
    process_samples: tuple[np.ndarray, ...] = field(default=(), compare=False)
    # The index of each process in process_samples (1-based; pairs match on it).
    process_indexes: tuple[int, ...] = field(default=(), compare=False)

    @property
    def processes(self) -> int:
        return len(self.process_samples)

    @property
    def median_s(self) -> float:
        return float(self.stats["median"])

    @property
    def iqr_s(self) -> float:
        return float(self.stats.get("iqr", float("nan")))


@dataclass(frozen=True)
class RunResults:
    """A whole results file: its benchmarks, the fingerprint and when it ran."""

    path: str
    benchmarks: tuple[BenchmarkResult, ...]
    fingerprint: dict[str, Any]
    datetime: str | None
    skipped_foreign: int = 0
    partial: bool = False  # the run was interrupted: only the benchmarks that finished

    @property
    def fingerprint_id(self) -> str:
        return fingerprint_id(self.fingerprint)


def fingerprint_id(fingerprint: dict[str, Any]) -> str:
    """A short hash of the fingerprint fields that must agree for a fair comparison."""
    subset = {key: fingerprint.get(key) for key in COMPARABLE_FINGERPRINT_KEYS}
    digest = hashlib.sha256(json.dumps(subset, sort_keys=True, default=str).encode())
    return digest.hexdigest()[:12]


def load_results(path: str | os.PathLike[str]) -> RunResults:
    """Reads a pytest-benchmark JSON file written by a tf2bench run.

    Raises:
        RecordError: one line naming the file and what was wrong with it.
    """
    where = str(path)
    document = decode_json(read_results_text(path), where=where)  # plain or .json.gz
    return parse_results(document, where=where)


def parse_results(document: Any, *, where: str) -> RunResults:
    """Turns a decoded pytest-benchmark JSON document into RunResults (see load_results)."""
    if not isinstance(document, dict) or not isinstance(document.get("benchmarks"), list):
        raise RecordError(
            f"{where}: not pytest-benchmark JSON, expected an object with a 'benchmarks' list"
        )
    benchmarks = []
    foreign = 0
    for index, entry in enumerate(document["benchmarks"]):
        if not isinstance(entry, dict):
            raise RecordError(f"{where}: benchmarks[{index}] is not an object")
        extra_info = entry.get("extra_info")
        block = extra_info.get(BLOCK_KEY) if isinstance(extra_info, dict) else None
        if not isinstance(block, dict):
            foreign += 1
            continue
        name = entry.get("name") or f"benchmarks[{index}]"
        problem = _not_text(entry, ("name", "fullname", "group"), f"benchmarks[{index}]")
        if problem:
            raise RecordError(f"{where}: {problem}")
        stats = entry.get("stats")
        if not isinstance(stats, dict) or not _is_number(stats.get("median")):
            raise RecordError(f"{where}: benchmark {name} has no stats.median")
        # A time of 0 or less cannot be measured: such a file is unusable, not comparable.
        if stats["median"] <= 0:
            raise RecordError(
                f"{where}: benchmark {name} has stats.median={stats['median']!r}, expected a "
                "positive time in seconds"
            )
        raw = stats.get("data")
        if isinstance(raw, list) and not all(_is_number(value) for value in raw):
            raise RecordError(f"{where}: benchmark {name} has non-numeric values in stats.data")
        if isinstance(raw, list) and any(value < 0 for value in raw):
            raise RecordError(
                f"{where}: benchmark {name} has negative times in stats.data, expected times >= 0"
            )
        samples = tuple(float(value) for value in raw) if isinstance(raw, list) and raw else None
        process_samples, process_indexes = _process_samples(
            block.get("processes"), samples, f"{where}: {name}"
        )
        benchmarks.append(
            BenchmarkResult(
                name=name,
                fullname=entry.get("fullname") or name,
                group=entry.get("group"),
                params=_scalar_params(entry.get("params")),
                stats={key: value for key, value in stats.items() if _is_number(value)},
                samples=samples,
                record=BenchRecord.from_extra_info(block, where=f"{where}: {name}"),
                process_samples=process_samples,
                process_indexes=process_indexes,
            )
        )
    if not benchmarks:
        if document["benchmarks"]:
            raise RecordError(
                f"{where}: not tf2bench results, none of its {len(document['benchmarks'])} "
                f"benchmarks has an extra_info['{BLOCK_KEY}'] block"
            )
        raise RecordError(f"{where}: holds no benchmarks ({_why_empty(document)})")
    machine_info = document.get("machine_info") or {}
    fingerprint = machine_info.get(BLOCK_KEY) if isinstance(machine_info, dict) else None
    if not isinstance(fingerprint, dict):
        fingerprint = None
    if document.get("datetime") is not None and not isinstance(document["datetime"], str):
        raise RecordError(f"{where}: datetime must be text, received {document['datetime']!r}")
    return RunResults(
        path=where,
        benchmarks=tuple(benchmarks),
        fingerprint=dict(fingerprint or {}),
        datetime=document.get("datetime"),
        skipped_foreign=foreign,
        partial=isinstance(document.get(BLOCK_KEY), dict)
        and document[BLOCK_KEY].get("partial") is True,
    )


def _process_samples(
    processes: Any, samples: tuple[float, ...] | None, where: str
) -> tuple[tuple[np.ndarray, ...], tuple[int, ...]]:
    """Each process's raw samples and index; without `processes`, one process of stats.data."""
    if processes is None:
        return ((np.asarray(samples, dtype=float),), (1,)) if samples else ((), ())
    if not isinstance(processes, list):
        raise RecordError(f"{where}: tf2bench processes must be a list, received {processes!r}")
    arrays, indexes = [], []
    for index, process in enumerate(processes):
        data = process.get("data") if isinstance(process, dict) else None
        if not isinstance(data, list) or not all(_is_number(value) for value in data):
            raise RecordError(
                f"{where}: tf2bench processes[{index}] must hold a 'data' list of numbers"
            )
        if data:
            arrays.append(np.asarray(data, dtype=float))
            number = process.get("index")
            indexes.append(number if isinstance(number, int) else index + 1)
    return tuple(arrays), tuple(indexes)


def _why_empty(document: dict[str, Any]) -> str:
    """Why a results file holds no benchmarks, from what the run recorded about its end."""
    block = document.get(BLOCK_KEY) if isinstance(document.get(BLOCK_KEY), dict) else {}
    status = block.get("exitstatus")
    if block.get("partial") is True:
        return "the run was interrupted before any benchmark finished"
    if isinstance(status, int) and status != 0:
        return (
            f"the run ended with pytest exit status {status} before any benchmark finished: "
            "every benchmark failed or errored; its log says why"
        )
    return "was the run made with --benchmark-only?"


def _is_number(value: Any) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


def _not_text(entry: dict[str, Any], keys: tuple[str, ...], where: str) -> str | None:
    """What is wrong with a benchmark's name fields (text or absent), or None."""
    for key in keys:
        if entry.get(key) is not None and not isinstance(entry[key], str):
            return f"{where}.{key} must be text, received {short_repr(entry[key])}"
    return None


def _scalar_params(params: Any) -> dict[str, Any]:
    """pytest's params of a benchmark; a list or object value is kept as its JSON text."""
    if not isinstance(params, dict):
        return {}
    return {
        str(key): value if is_scalar(value) else json.dumps(value, sort_keys=True)
        for key, value in params.items()
    }
