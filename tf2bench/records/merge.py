"""Merges the pytest-benchmark JSON of N fresh processes into ONE pytest-benchmark JSON.

Per benchmark (matched by fullname): `stats.data` is every process's samples concatenated in
process order, the other `stats` fields are recomputed from them by pytest-benchmark's own
Stats class, and `extra_info["tf2bench"]["processes"]` keeps each process's samples apart.
`machine_info["tf2bench"]` gains `processes` (N) and `process_mode`, and `pairing` when the
processes ran in base/head pairs (`tf2bench ab`): the two sides' files share the token, and
process i of one side ran beside process i of the other. No TensorFlow here.
"""

from __future__ import annotations

import copy
import os
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pytest_benchmark.stats import Stats

from tf2bench.errors import OutputError, RecordError

__all__ = [
    "PROCESS_MODES",
    "check_json_target",
    "merge_documents",
    "recompute_stats",
]

BLOCK_KEY = "tf2bench"  # the same key as records.schema.BLOCK_KEY (kept import-light)
PROCESS_MODES = ("selection", "benchmark")


def recompute_stats(data: Sequence[float], iterations: int = 1) -> dict[str, Any]:
    """pytest-benchmark's stats dict (with `data`) for these per-iteration samples."""
    stats = Stats()
    for value in data:
        stats.update(float(value))
    return {**stats.as_dict(), "data": list(stats.data), "iterations": iterations}


def merge_documents(
    documents: Sequence[tuple[int, dict[str, Any]]],
    *,
    mode: str,
    processes: int,
    pairing: str | None = None,
) -> dict[str, Any]:
    """One results document from `(process index, document)` pairs, in process order.

    In "benchmark" mode a process holds one benchmark, so several documents share an index.

    Raises:
        RecordError: no document holds a benchmark with samples.
    """
    if mode not in PROCESS_MODES:
        raise RecordError(f"Received process mode {mode!r}, expected one of {PROCESS_MODES}")
    ordered = sorted(documents, key=lambda pair: pair[0])  # stable: keeps collection order
    by_name: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for index, document in ordered:
        for entry in document.get("benchmarks", []):
            if (entry.get("stats") or {}).get("data"):
                by_name.setdefault(entry["fullname"], []).append((index, entry))
    if not by_name:
        raise RecordError("none of the processes' results holds a benchmark with raw samples")
    first = ordered[0][1]
    merged = {key: copy.deepcopy(value) for key, value in first.items() if key != "benchmarks"}
    merged["benchmarks"] = [_merge_benchmark(entries) for entries in by_name.values()]
    machine_info = merged.setdefault("machine_info", {})
    block = machine_info.setdefault(BLOCK_KEY, {})
    block["processes"] = processes
    block["process_mode"] = mode
    if pairing:
        block["pairing"] = pairing
    return merged


def _merge_benchmark(entries: list[tuple[int, dict[str, Any]]]) -> dict[str, Any]:
    merged = copy.deepcopy(entries[0][1])
    data = [value for _, entry in entries for value in entry["stats"]["data"]]
    merged["stats"] = recompute_stats(data, entries[0][1]["stats"].get("iterations", 1))
    blocks = [(entry.get("extra_info") or {}).get(BLOCK_KEY) for _, entry in entries]
    if not all(isinstance(block, dict) for block in blocks):
        return merged  # a foreign benchmark: pytest-benchmark fields only
    block = merged["extra_info"][BLOCK_KEY]
    block["processes"] = [
        {
            "index": index,
            "data": list(entry["stats"]["data"]),
            "first_call_s": process_block.get("first_call_s"),
            "warmup_calls": process_block.get("warmup_calls", 0),
        }
        for (index, entry), process_block in zip(entries, blocks, strict=True)
    ]
    # Once-per-process numbers: the median over processes; rates follow the merged median.
    for key in ("first_call_s", "warmup_s"):
        block[key] = _median([b.get(key) for b in blocks])
    median, first_median = merged["stats"]["median"], entries[0][1]["stats"]["median"]
    if block.get("throughput_per_s") is not None and median > 0:
        block["throughput_per_s"] = block.get("items_per_round", 1.0) / median
    metrics = {}
    for name in block.get("metrics") or {}:
        if name == "per_sample_s" and first_median > 0:  # median / items, rescaled
            metrics[name] = block["metrics"][name] * median / first_median
        else:
            metrics[name] = _median([(b.get("metrics") or {}).get(name) for b in blocks])
    block["metrics"] = metrics
    return merged


def _median(values: list[Any]) -> float | None:
    numbers = [float(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return statistics.median(numbers) if numbers else None


def check_json_target(path: str | os.PathLike[str]) -> Path:
    """Refuses an output path that is a folder or not named .json(.gz); makes its folder."""
    target = Path(path)
    if target.is_dir() or not target.name.endswith((".json", ".json.gz")):
        raise OutputError(
            f"Received --out {str(path)!r}, expected a file path ending in .json or .json.gz"
        )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(f"{target.parent}: cannot be created ({error.strerror})") from None
    return target
