"""The tf2bench record schema: the only module that knows the field names in results JSON.

A results file is pytest-benchmark's JSON. tf2bench adds a versioned block under each
benchmark's ``extra_info["tf2bench"]`` and the environment fingerprint under
``machine_info["tf2bench"]``. The reader here turns such a file into plain data.

Family conventions (what each family puts in the generic fields; `params` keys in FAMILY_PARAMS):
    execution       workload: mlp_train, mlp_infer, cnn_train, control_flow, many_small_ops,
                    few_large_ops, retracing; mode: eager | autograph | xla | session (TF1
                    graph + tf.compat.v1.Session);
                    params.phase: steady | cold | retrace (params.variant for retrace).
    input_pipeline  workload: pipeline | limit | consumer | iteration; batch_size: the batch;
                    params: the PipelineSpec fields and a short `variant` label;
                    metrics: ratio_to_limit (over the NumPy feed, not a bound),
                    ratio_to_copy_bound (over the memory-copy bound, harness/copy_bound.py),
                    batches_per_s, first_batch_s, input_bound_fraction.
    model_styles    workload: the network (mlp | cnn | linear); style: lowlevel | sequential |
                    functional | subclassed; mode for custom_train, call and first_call
                    (call eager = `model(x)`, autograph = `model(x)` inside a tf.function);
                    params.op: build | first_call | call | predict_on_batch | predict |
                    train_on_batch | custom_train; metrics.per_sample_s.
    training        workload: the network; style: functional; params.loop: fit | custom;
                    params.steps_per_execution; params.epoch: first | later; mode for custom
                    loops; one round = one epoch (items_per_round = steps, unit "steps").
    saving          workload: the network; style: the saved model's style; params.op:
                    savedmodel_save | savedmodel_load | keras_save | keras_load |
                    serve_reloaded | serve_live; metrics.size_on_disk_bytes.
    distribute      workload: the network; batch_size: the global batch; params.strategy:
                    none | one_device | mirrored | multi_worker; params.steps_per_round (one
                    round = that many steps); metrics.replicas, metrics.scaling_efficiency.
    every family    params.threads (RUN_PARAMS): the run's intra-op threads, all or a count;
                    params.keras (RUN_PARAMS): "keras3 3.15.1" or "tf_keras 2.21.0";
                    execution may add params.precision: mixed_float16 (float32 when absent);
                    metrics.peak_host_bytes, and metrics.peak_device_bytes on a GPU.

Schema history:
    1: first version (family, workload, mode, style, device, batch_size, items_per_round,
       item_unit, first_call_s, warmup_calls, warmup_s, tracing_count, retraces, preset,
       throughput_per_s, metrics, params).
    2: `processes`: a list of {"index", "data" (seconds), "first_call_s", "warmup_calls"}, one
       per fresh process that measured the benchmark; `stats.data` is their samples
       concatenated in process order. A v1 record (or a v2 one without `processes`) reads as
       one process whose data is `stats.data`.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from tf2bench.errors import RecordError, UsageError
from tf2bench.records import families
from tf2bench.records.families import FAMILIES
from tf2bench.records.files import read_results_text
from tf2bench.records.inputs import decode_json

__all__ = [
    "BLOCK_KEY",
    "METRICS",
    "RUN_PARAMS",
    "SCHEMA_VERSION",
    "BenchRecord",
    "BenchmarkResult",
    "RunResults",
    "fingerprint_id",
    "load_results",
    "parse_results",
]

SCHEMA_VERSION = 2
SUPPORTED_VERSIONS = (1, 2)
BLOCK_KEY = "tf2bench"

# Family-specific numbers live in BenchRecord.metrics under these names (units in the name).
METRICS = {
    "ratio_to_limit": "throughput over the NumPy feed (Python slicing) measured in the same run",
    "ratio_to_copy_bound": "throughput over the memory-copy bound of the same bytes (all cores)",
    "first_batch_s": "seconds from iterator creation to the first batch (fills shuffle buffers)",
    "input_bound_fraction": "time waiting for the next batch over total step time, 0..1",
    "batches_per_s": "batches per second through the pipeline",
    "per_sample_s": "median step time over batch size",
    "size_on_disk_bytes": "bytes of a saved model on disk",
    "peak_host_bytes": "peak resident set size of the process during the benchmark",
    "peak_device_bytes": "peak device memory during the timed rounds (GPU)",
    "replicas": "number of replicas of a distribution strategy",
    "scaling_efficiency": "throughput over (replicas x single-replica throughput), 0..1",
    "profile_overhead_ratio": "step time under the profiler over step time without it",
    "max_abs_diff": "largest absolute difference from the reference output",
}

# The `params` keys each family uses, from the family registry.
FAMILY_PARAMS = {declared.name: declared.params for declared in FAMILIES}

# `params` keys that every record of a run carries (set once per run by the pytest plugin).
RUN_PARAMS = {
    "threads": "TensorFlow intra-op threads of the run: 'all' (TF's default) or a count",
    "keras": "which Keras ran: 'keras3 <version>' or 'tf_keras <version>' (Keras 2)",
}

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

Scalar = str | int | float | bool | None


@dataclass(frozen=True)
class BenchRecord:
    """What one benchmark ran (its configuration) and the tf2bench numbers around its timing."""

    family: str
    workload: str
    mode: str | None = None
    style: str | None = None
    device: str = "cpu"
    batch_size: int | None = None
    items_per_round: float = 1.0
    item_unit: str = "calls"
    first_call_s: float | None = None
    warmup_calls: int = 0
    warmup_s: float | None = None
    tracing_count: int | None = None
    retraces: int = 0
    preset: str | None = None
    throughput_per_s: float | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, Scalar] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = sorted(set(self.metrics) - set(METRICS) - families.declared_metrics())
        if unknown:
            raise UsageError(
                f"Received unknown metric names {unknown}, expected names from "
                f"tf2bench.records.schema.METRICS: {', '.join(sorted(METRICS))}"
            )

    def to_extra_info(self) -> dict[str, Any]:
        """The JSON block stored under extra_info['tf2bench']."""
        return {"schema_version": SCHEMA_VERSION, **asdict(self)}

    @classmethod
    def from_extra_info(cls, block: dict[str, Any], *, where: str) -> BenchRecord:
        version = block.get("schema_version")
        if version not in SUPPORTED_VERSIONS:
            raise RecordError(
                f"{where}: tf2bench schema_version {version!r} is not supported, expected one of "
                f"{SUPPORTED_VERSIONS}"
            )
        names = cls.__dataclass_fields__.keys()
        missing = [name for name in ("family", "workload") if name not in block]
        if missing:
            raise RecordError(f"{where}: tf2bench block lacks {', '.join(missing)}")
        values = {name: block[name] for name in names if name in block}
        problem = _malformed_field(values)
        if problem:
            raise RecordError(f"{where}: tf2bench block is malformed ({problem})")
        try:
            return cls(**values)
        except (TypeError, UsageError) as error:
            raise RecordError(f"{where}: tf2bench block is malformed ({error})") from None

    def label(self) -> str:
        """A short human label of the configuration, used in tables and plots."""
        parts = [self.workload, self.mode, self.style, self.device]
        if self.batch_size is not None:
            parts.append(f"b{self.batch_size}")
        return " ".join(str(part) for part in parts if part)


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


# Fields of the tf2bench block that must be numbers (or null) for the report to use them.
_NUMERIC_FIELDS = (
    "batch_size",
    "items_per_round",
    "first_call_s",
    "warmup_calls",
    "warmup_s",
    "tracing_count",
    "retraces",
    "throughput_per_s",
)


def _malformed_field(values: dict[str, Any]) -> str | None:
    """What is wrong with the types of a tf2bench block's fields, or None if nothing is."""
    for key in _NUMERIC_FIELDS:
        if values.get(key) is not None and not _is_real(values[key]):
            return f"{key} must be a number, received {values[key]!r}"
    metrics = values.get("metrics", {})
    if not isinstance(metrics, dict) or not all(_is_real(v) for v in metrics.values()):
        return f"metrics must map names to numbers, received {metrics!r}"
    for key, nullable in _TEXT_FIELDS:
        value = values.get(key)
        if not isinstance(value, str) and not (nullable and value is None) and key in values:
            return f"{key} must be text, received {_short(value)}"
    params = values.get("params", {})
    if not isinstance(params, dict):
        return f"params must be an object, received {_short(params)}"
    bad = next((key for key, value in params.items() if not _is_scalar(value)), None)
    if bad is not None:
        received = _short(params[bad])
        return f"params.{bad} must be text, a number, true/false or null, received {received}"
    return None


# Text fields of the tf2bench block: (name, may be null).
_TEXT_FIELDS = (
    ("family", False),
    ("workload", False),
    ("mode", True),
    ("style", True),
    ("device", False),
    ("item_unit", False),
    ("preset", True),
)


def _not_text(entry: dict[str, Any], keys: tuple[str, ...], where: str) -> str | None:
    """What is wrong with a benchmark's name fields (text or absent), or None."""
    for key in keys:
        if entry.get(key) is not None and not isinstance(entry[key], str):
            return f"{where}.{key} must be text, received {_short(entry[key])}"
    return None


def _scalar_params(params: Any) -> dict[str, Any]:
    """pytest's params of a benchmark; a list or object value is kept as its JSON text."""
    if not isinstance(params, dict):
        return {}
    return {
        str(key): value if _is_scalar(value) else json.dumps(value, sort_keys=True)
        for key, value in params.items()
    }


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _is_real(value: Any) -> bool:
    # NaN and inf are allowed here (a metric may be undefined); strings and booleans are not.
    return isinstance(value, (int, float)) and not isinstance(value, bool)
