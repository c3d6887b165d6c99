"""The benchmark families, declared once: record checks, groups and the report read this table.

Adding a family means adding one `Family` here (see CONTRIBUTING.md). No TensorFlow import.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tf2bench.records.record import BenchRecord

__all__ = ["FAMILIES", "Family", "declared_metrics", "family", "family_names", "group_of"]


@dataclass(frozen=True)
class Family:
    """What one benchmark family measures and which record fields it uses.

    Attributes:
        name: the record's `family` value and the `tf2bench_family` marker's argument.
        title: the report's heading for the family.
        question: the user's question the family answers (the report's subtitle).
        params: the `params` keys its records may carry, besides the run-level ones.
        metrics: the `metrics` names its records may carry, besides the common ones.
        item_unit: what one item of its throughput is, when it has a single unit.
        report: the module holding its report sections (`SECTIONS`, builders as in
            `tf2bench.report.sections`); the report finds every family's sections here.
        group: the record's pytest-benchmark group after the family name: the benchmarks
            compared side by side share it. None: the workload.
    """

    name: str
    title: str
    question: str
    params: tuple[str, ...] = ()
    metrics: tuple[str, ...] = ()
    item_unit: str | None = None
    report: str | None = None
    group: Callable[[BenchRecord], str] | None = None


def _execution_group(record: BenchRecord) -> str:
    phase = record.params.get("phase")
    if phase == "cold":
        return f"cold start {record.workload}"
    if phase == "retrace":
        return record.workload
    return f"{record.workload} batch={record.batch_size}"


def _pipeline_group(record: BenchRecord) -> str:
    if record.workload == "pipeline":  # every pipeline pulls the same elements a round
        return f"{record.items_per_round:g} elements"
    if record.workload == "iteration":
        return f"iteration b{record.batch_size}"
    if record.workload == "consumer":
        consumer = str(record.params.get("consumer")).replace("_", " ")
        return f"consumer {consumer} b{record.batch_size}"
    return record.workload


def _styles_group(record: BenchRecord) -> str:
    op = record.params.get("op")
    if op in ("build", "first_call"):
        return f"{op} {record.workload}"
    return f"{op} {record.workload} batch={record.batch_size}"


def _saving_group(record: BenchRecord) -> str:
    op = str(record.params.get("op"))
    if op.startswith("serve_"):  # reloaded and live serving side by side
        return f"serve {record.workload} batch={record.batch_size}"
    return f"{op} {record.workload}"


FAMILIES: tuple[Family, ...] = (
    Family(
        "execution",
        "Execution modes",
        "How much faster is a step under tf.function (AutoGraph) or XLA than eager, "
        "and what do tracing and retracing cost?",
        params=("phase", "variant", "shapes", "precision"),
        report="tf2bench.report.sections.execution",
        group=_execution_group,
    ),
    Family(
        "input_pipeline",
        "tf.data input pipelines",
        "What does each tf.data stage cost or buy, and how close is a pipeline to the limit?",
        params=(
            "variant",
            "source",
            "map",
            "parallel",
            "vectorized",
            "shuffle",
            "prefetch",
            "cache",
            "optimize",
            "deterministic",
            "iteration",
            "consumer",
        ),
        metrics=("ratio_to_limit", "first_batch_s", "input_bound_fraction", "batches_per_s"),
        item_unit="elements",
        report="tf2bench.report.sections.pipelines",
        group=_pipeline_group,
    ),
    Family(
        "model_styles",
        "Model-building styles",
        "Does it matter whether the model is built low-level, Sequential, functional or "
        "subclassed?",
        params=("op",),
        metrics=("per_sample_s",),
        report="tf2bench.report.sections.styles",
        group=_styles_group,
    ),
    Family(
        "training",
        "Training loops",
        "fit or a custom training loop?",
        params=("loop", "steps_per_execution", "epoch"),
        item_unit="steps",
        report="tf2bench.report.sections.training",
        group=lambda record: f"{record.workload} {record.params.get('epoch')} epoch",
    ),
    Family(
        "saving",
        "Saving and reloading",
        "What do SavedModel and .keras export and reload cost, and is the reloaded model as "
        "fast as the live one?",
        params=("op",),
        metrics=("size_on_disk_bytes",),
        report="tf2bench.report.sections.saving",
        group=_saving_group,
    ),
    Family(
        "distribute",
        "Devices and scale",
        "How does a step scale over replicas with MirroredStrategy and multi-worker training?",
        params=("strategy", "steps_per_round"),
        metrics=("replicas", "scaling_efficiency"),
        report="tf2bench.report.sections.distribute",
        group=lambda record: f"{record.workload} global_batch={record.batch_size}",
    ),
)


def family_names() -> tuple[str, ...]:
    """The declared family names, in report order."""
    return tuple(declared.name for declared in FAMILIES)


def declared_metrics() -> frozenset[str]:
    """Every metric name some family declares (read at call time, so a new family counts)."""
    return frozenset(name for declared in FAMILIES for name in declared.metrics)


def family(name: str) -> Family:
    """The declaration of family `name`.

    Raises:
        KeyError: `name` is not a declared family.
    """
    for declared in FAMILIES:
        if declared.name == name:
            return declared
    raise KeyError(name)


def group_of(record: BenchRecord) -> str:
    """The pytest-benchmark group of a record: its family's name, then the family's group."""
    try:
        group = family(record.family).group
    except KeyError:  # a family this version does not declare (an older or newer file)
        group = None
    return f"{record.family} {group(record) if group else record.workload}"
