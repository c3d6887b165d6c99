"""One benchmark's tf2bench block (``extra_info["tf2bench"]``): BenchRecord, version, checks.

Family conventions (what each family puts in the generic fields; the `params` keys and metric
names each may carry are declared in records/families.py):
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
    3: no `retraces` (it was always 0: a retrace inside the timed rounds fails the benchmark,
       so no saved record had another value); a v1 or v2 block's `retraces` is ignored.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from tf2bench.errors import RecordError, UsageError
from tf2bench.records import families

__all__ = [
    "BLOCK_KEY",
    "METRICS",
    "RUN_PARAMS",
    "SCHEMA_VERSION",
    "SUPPORTED_VERSIONS",
    "BenchRecord",
    "Scalar",
    "is_scalar",
    "short_repr",
]

SCHEMA_VERSION = 3
SUPPORTED_VERSIONS = (1, 2, 3)
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

# `params` keys that every record of a run carries (set once per run by the pytest plugin).
RUN_PARAMS = {
    "threads": "TensorFlow intra-op threads of the run: 'all' (TF's default) or a count",
    "keras": "which Keras ran: 'keras3 <version>' or 'tf_keras <version>' (Keras 2)",
}

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


# Fields of the tf2bench block that must be numbers (or null) for the report to use them.
_NUMERIC_FIELDS = (
    "batch_size",
    "items_per_round",
    "first_call_s",
    "warmup_calls",
    "warmup_s",
    "tracing_count",
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
            return f"{key} must be text, received {short_repr(value)}"
    params = values.get("params", {})
    if not isinstance(params, dict):
        return f"params must be an object, received {short_repr(params)}"
    bad = next((key for key, value in params.items() if not is_scalar(value)), None)
    if bad is not None:
        received = short_repr(params[bad])
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


def is_scalar(value: Any) -> bool:
    """A value a record's params may hold: text, a number, true/false or null."""
    return value is None or isinstance(value, (str, int, float, bool))


def short_repr(value: Any) -> str:
    """A value's repr cut to 60 characters, for one-line error messages."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _is_real(value: Any) -> bool:
    # NaN and inf are allowed here (a metric may be undefined); strings and booleans are not.
    return isinstance(value, (int, float)) and not isinstance(value, bool)
