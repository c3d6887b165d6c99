"""Synthetic pytest-benchmark JSON for every tf2bench family, following the schema's conventions.

Used by the report and compare tests, and to regenerate the committed samples in tests/data/
(`make goldens`, which also rewrites the golden outputs made from them).

The numbers are made up (log-normal noise around plausible medians, fixed seeds); only their
shape follows real runs (see results/quick.json for a real execution-family run).
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from tf2bench.records.schema import BLOCK_KEY, BenchRecord

DATA = Path(__file__).parent / "data"

FINGERPRINT = {
    "tensorflow": "2.21.0",
    "keras": "3.15.1",
    "cuda_version": "12.5.1",
    "cudnn_version": "9",
    "physical_devices": ["CPU:0", "GPU:0"],
    "cpu_model": "Synthetic CPU",
    "cpu_count": 2,
    "intra_op_threads": 0,
    "inter_op_threads": 0,
    "onednn_opts": "default (on)",
    "xla_flags": "",
}


class RunBuilder:
    """Collects benchmark entries with seeded log-normal samples around given medians."""

    def __init__(self, seed: int = 0, rounds: int = 40, spread: float = 0.03) -> None:
        self.rng = np.random.default_rng(seed)
        self.rounds = rounds
        self.spread = spread
        self.benchmarks: list[dict[str, Any]] = []

    def add(
        self,
        test: str,
        pytest_params: dict[str, Any],
        median_s: float,
        *,
        group: str,
        rounds: int | None = None,
        spread: float | None = None,
        **record: Any,
    ) -> None:
        rounds = rounds or self.rounds
        noise = self.rng.lognormal(0.0, spread if spread is not None else self.spread, rounds)
        samples = [float(f"{value:.6g}") for value in median_s * noise]
        record.setdefault("items_per_round", 1)
        block = BenchRecord(preset="standard", **record)
        if block.throughput_per_s is None:
            block = _with(block, throughput_per_s=block.items_per_round / float(np.median(samples)))
        param_id = "-".join(str(value) for value in pytest_params.values())
        name = f"{test.split('::')[-1]}[{param_id}]"
        self.benchmarks.append(
            {
                "group": group,
                "name": name,
                "fullname": f"{test}[{param_id}]",
                "params": pytest_params,
                "param": param_id,
                "extra_info": {BLOCK_KEY: block.to_extra_info()},
                "options": {"timer": "perf_counter", "min_rounds": 5, "max_time": 1.0},
                "stats": stats_of(samples),
            }
        )

    def document(self, fingerprint: dict[str, Any] | None = None) -> dict[str, Any]:
        return {
            "machine_info": {"node": "synthetic", BLOCK_KEY: dict(fingerprint or FINGERPRINT)},
            "commit_info": {},
            "benchmarks": self.benchmarks,
            "datetime": "2026-11-28T12:00:00.000000+00:00",
            "version": "5.3.1",
        }


def stats_of(samples: list[float]) -> dict[str, Any]:
    """pytest-benchmark's stats block for raw samples (quartiles by NumPy's default method)."""
    data = np.asarray(samples)
    q1, median, q3 = np.quantile(data, [0.25, 0.5, 0.75])
    return {
        "min": float(data.min()),
        "max": float(data.max()),
        "mean": float(data.mean()),
        "stddev": float(data.std(ddof=1)) if data.size > 1 else 0.0,
        "rounds": int(data.size),
        "median": float(median),
        "iqr": float(q3 - q1),
        "q1": float(q1),
        "q3": float(q3),
        "ops": float(1 / data.mean()),
        "total": float(data.sum()),
        "data": list(samples),
        "iterations": 1,
    }


def _with(record: BenchRecord, **changes: Any) -> BenchRecord:
    values = record.to_extra_info()
    values.pop("schema_version")
    return BenchRecord(**{**values, **changes})


EXECUTION = "benchmarks/test_execution.py"
STEP_MEDIANS = {"mlp_train": 6e-3, "mlp_infer": 2e-3, "cnn_train": 2e-2, "control_flow": 4e-3}
MODE_FACTORS = {"eager": 1.0, "autograph": 0.15, "xla": 0.12}


def add_execution(run: RunBuilder, device: str = "cpu", batches=(1, 32, 256), workloads=None):
    workloads = workloads or STEP_MEDIANS
    device_factor = 1.0 if device == "cpu" else 0.4
    for workload in workloads:
        base = STEP_MEDIANS.get(workload, 3e-3)
        for batch in batches:
            for mode, factor in MODE_FACTORS.items():
                run.add(
                    f"{EXECUTION}::test_step",
                    {"device": device, "workload": workload, "mode": mode, "batch_size": batch},
                    base * factor * device_factor * (1 + batch / 256),
                    group=f"execution {workload} batch={batch}",
                    family="execution",
                    workload=workload,
                    mode=mode,
                    device=device,
                    batch_size=batch,
                    items_per_round=batch,
                    item_unit="examples",
                    first_call_s=0.09 if mode == "eager" else 0.3,
                    params={"phase": "steady"},
                )
    for workload, base in (("many_small_ops", 3e-3), ("few_large_ops", 2.4e-3)):
        for mode, factor in MODE_FACTORS.items():
            run.add(
                f"{EXECUTION}::test_op_granularity",
                {"device": device, "workload": workload, "mode": mode},
                base * (factor if workload == "many_small_ops" else 0.97) * device_factor,
                group=f"execution {workload} batch=None",
                family="execution",
                workload=workload,
                mode=mode,
                device=device,
                params={"phase": "steady"},
            )
    for mode, cold in (("eager", 7e-3), ("autograph", 5e-2), ("xla", 0.26)):
        run.add(
            f"{EXECUTION}::test_cold_start",
            {"device": device, "workload": "mlp_train", "mode": mode},
            cold,
            group="execution cold start mlp_train",
            rounds=5,
            spread=0.08,
            family="execution",
            workload="mlp_train",
            mode=mode,
            device=device,
            batch_size=32,
            item_unit="first calls",
            params={"phase": "cold"},
        )
    for variant, sweep, traces in (
        ("no_signature", 6.5e-2, 8),
        ("input_signature", 1.0e-2, 1),
        ("reduce_retracing", 1.7e-2, 2),
    ):
        run.add(
            f"{EXECUTION}::test_retracing",
            {"device": device, "variant": variant},
            sweep,
            group="execution retracing",
            rounds=5,
            family="execution",
            workload="retracing",
            mode="autograph",
            device=device,
            items_per_round=8,
            tracing_count=traces,
            params={"phase": "retrace", "variant": variant, "shapes": 8},
        )


PIPELINE = "benchmarks/test_input_pipeline.py"
# The NumPy feed (`limit`) runs at this fraction of the memory-copy bound.
FEED_OF_COPY_BOUND = 0.6
PIPELINE_VARIANTS = {  # variant: (fraction of the NumPy feed, first batch seconds)
    "plain": (0.55, 0.004),
    "rot90": (0.2, 0.006),
    "rot90_parallel": (0.32, 0.006),
    "rot90_parallel_prefetch": (0.36, 0.007),
    "augment_parallel": (0.12, 0.02),
    "rot90_vectorized": (0.45, 0.005),
    "cache": (0.8, 0.15),
}
CONSUMER_VARIANTS = {"rot90": 0.62, "rot90_prefetch": 0.31, "rot90_parallel_prefetch": 0.08}


def add_input_pipeline(run: RunBuilder, device: str = "cpu", batches=(32, 256)) -> None:
    for batch in batches:
        limit_per_s = 2.0e6 if batch == 256 else 8.0e5
        batches_per_round = 20
        elements = batches_per_round * batch
        common = {"family": "input_pipeline", "device": device, "batch_size": batch}
        run.add(
            f"{PIPELINE}::test_limit",
            {"device": device, "batch_size": batch},
            elements / limit_per_s,
            group=f"input_pipeline batch={batch}",
            workload="limit",
            items_per_round=elements,
            item_unit="elements",
            params={"variant": "numpy_slices", "source": "numpy"},
            **common,
        )
        for variant, (fraction, first_batch) in PIPELINE_VARIANTS.items():
            run.add(
                f"{PIPELINE}::test_pipeline",
                {"device": device, "variant": variant, "batch_size": batch},
                elements / (limit_per_s * fraction),
                group=f"input_pipeline batch={batch}",
                workload="pipeline",
                items_per_round=elements,
                item_unit="elements",
                metrics={
                    "ratio_to_limit": fraction,
                    "ratio_to_copy_bound": fraction * FEED_OF_COPY_BOUND,
                    "batches_per_s": limit_per_s * fraction / batch,
                    "first_batch_s": first_batch,
                },
                params={
                    "variant": variant,
                    "source": "memory",
                    "shuffle": 1000,
                    "map": "none" if variant == "plain" else variant.split("_")[0],
                },
                **common,
            )
        for variant, bound in CONSUMER_VARIANTS.items():
            run.add(
                f"{PIPELINE}::test_consumer",
                {"device": device, "variant": variant, "batch_size": batch},
                batches_per_round * 2e-3 / (1 - bound),
                group=f"input_pipeline consumer batch={batch}",
                workload="consumer",
                items_per_round=elements,
                item_unit="elements",
                metrics={"input_bound_fraction": bound},
                params={"variant": variant, "consumer": "mlp_train"},
                **common,
            )


STYLES = {"lowlevel": 0.8, "sequential": 1.0, "functional": 1.0, "subclassed": 1.05}
STYLE_OPS = {"call": 4e-4, "predict": 2.5e-2, "train_on_batch": 3e-3}


def add_model_styles(run: RunBuilder, device: str = "cpu", batches=(1, 32, 256)) -> None:
    test = "benchmarks/test_model_styles.py::test_op"
    for network, scale in (("mlp", 1.0), ("cnn", 4.0)):
        for style, factor in STYLES.items():
            common = {"family": "model_styles", "workload": network, "style": style}
            run.add(
                test,
                {"device": device, "network": network, "style": style, "op": "build"},
                2e-2 * factor * scale,
                group=f"model_styles {network} build",
                device=device,
                params={"op": "build"},
                **common,
            )
            for mode, first in (("eager", 3e-3), ("autograph", 6e-2)):
                run.add(
                    test,
                    {
                        "device": device,
                        "network": network,
                        "style": style,
                        "op": "first_call",
                        "mode": mode,
                    },
                    first * factor * scale,
                    group=f"model_styles {network} first_call",
                    rounds=5,
                    device=device,
                    mode=mode,
                    batch_size=32,
                    item_unit="first calls",
                    params={"op": "first_call"},
                    **common,
                )
            for mode, speed in (("eager", 1.0), ("xla", 0.15)):
                for batch in batches:
                    median = 5e-3 * speed * factor * scale * (1 + batch / 64)
                    run.add(
                        test,
                        {
                            "device": device,
                            "network": network,
                            "style": style,
                            "op": "custom_train",
                            "mode": mode,
                            "batch_size": batch,
                        },
                        median,
                        group=f"model_styles {network} custom_train batch={batch}",
                        device=device,
                        mode=mode,
                        batch_size=batch,
                        items_per_round=batch,
                        item_unit="examples",
                        metrics={"per_sample_s": median / batch},
                        params={"op": "custom_train"},
                        **common,
                    )
            for op, base in STYLE_OPS.items():
                for batch in batches:
                    median = base * factor * scale * (1 + batch / 64)
                    run.add(
                        test,
                        {
                            "device": device,
                            "network": network,
                            "style": style,
                            "op": op,
                            "batch_size": batch,
                        },
                        median,
                        group=f"model_styles {network} {op} batch={batch}",
                        device=device,
                        batch_size=batch,
                        items_per_round=batch,
                        item_unit="examples",
                        metrics={"per_sample_s": median / batch},
                        params={"op": op},
                        **common,
                    )


def add_training(run: RunBuilder, device: str = "cpu") -> None:
    test = "benchmarks/test_training.py::test_loop"
    loops = (
        ("fit", 1, None, 3e-3),
        ("fit", 10, None, 1.8e-3),
        ("custom", 1, "eager", 9e-3),
        ("custom", 1, "autograph", 1.9e-3),
        ("custom", 10, "autograph", 1.5e-3),
    )
    for loop, spe, mode, per_step in loops:
        for epoch, factor in (("first", 1.6), ("later", 1.0)):
            run.add(
                test,
                {"device": device, "loop": loop, "spe": spe, "mode": mode, "epoch": epoch},
                per_step * factor * 50,
                group=f"training mlp epoch={epoch}",
                family="training",
                workload="mlp",
                mode=mode,
                device=device,
                batch_size=32,
                items_per_round=50,
                item_unit="steps",
                params={"loop": loop, "steps_per_execution": spe, "epoch": epoch},
            )


def add_saving(run: RunBuilder, device: str = "cpu") -> None:
    test = "benchmarks/test_saving.py::test_saving"
    exports = {
        "savedmodel_save": 0.9,
        "savedmodel_load": 0.45,
        "keras_save": 0.12,
        "keras_load": 0.2,
    }
    for op, median in exports.items():
        size = 1.2e6 if "savedmodel" in op else 4.1e5
        run.add(
            test,
            {"device": device, "network": "mlp", "style": "functional", "op": op},
            median,
            group="saving mlp export",
            rounds=5,
            family="saving",
            workload="mlp",
            style="functional",
            device=device,
            item_unit="calls",
            metrics={"size_on_disk_bytes": size},
            params={"op": op},
        )
    for op, median in (("serve_reloaded", 4.1e-4), ("serve_live", 3.6e-4)):
        for batch in (1, 256):
            run.add(
                test,
                {
                    "device": device,
                    "network": "mlp",
                    "style": "functional",
                    "op": op,
                    "batch_size": batch,
                },
                median * (1 + batch / 64),
                group=f"saving mlp serve batch={batch}",
                family="saving",
                workload="mlp",
                style="functional",
                device=device,
                batch_size=batch,
                items_per_round=batch,
                item_unit="examples",
                params={"op": op},
            )


def add_distribute(run: RunBuilder) -> None:
    test = "benchmarks/test_distribute.py::test_strategy"
    single = 5e-3
    cases = (
        ("none", 1, 1.0),
        ("one_device", 1, 0.95),
        ("mirrored", 1, 0.93),
        ("mirrored", 2, 0.7),
        ("mirrored", 4, 0.45),
        ("multi_worker", 2, 0.55),
    )
    for strategy, replicas, efficiency in cases:
        step = single / (replicas * efficiency)  # the same global batch on every replica count
        metrics = {"replicas": replicas}
        if strategy in ("mirrored", "multi_worker"):
            metrics["scaling_efficiency"] = efficiency
        run.add(
            test,
            {"device": "cpu", "strategy": strategy, "replicas": replicas},
            10 * step,
            group="distribute mlp",
            family="distribute",
            workload="mlp",
            device="cpu",
            batch_size=64,
            items_per_round=640,
            item_unit="examples",
            metrics=metrics,
            params={"strategy": strategy, "steps_per_round": 10},
        )


def add_unknown_family(run: RunBuilder) -> None:
    run.add(
        "benchmarks/test_serving.py::test_ping",
        {"device": "cpu", "transport": "grpc"},
        1.5e-4,
        group="serving ping",
        family="serving",
        workload="ping",
        device="cpu",
        metrics={"peak_host_bytes": 5.0e8},
        params={"transport": "grpc"},
    )


def full_run(seed: int = 0, rounds: int = 20, fingerprint: dict | None = None) -> dict[str, Any]:
    """Every family on cpu, the execution family also on gpu, and one family nobody knows."""
    run = RunBuilder(seed=seed, rounds=rounds)
    add_execution(run, "cpu")
    add_execution(run, "gpu", batches=(32, 256), workloads=("mlp_train", "cnn_train"))
    add_input_pipeline(run)
    add_model_styles(run)
    add_training(run)
    add_saving(run)
    add_distribute(run)
    add_unknown_family(run)
    return run.document(fingerprint)


def large_run(benchmarks: int = 500, rounds: int = 200, seed: int = 0) -> dict[str, Any]:
    """A run of exactly `benchmarks` benchmarks: every family, then execution workloads."""
    document = full_run(seed=seed, rounds=rounds)
    run = RunBuilder(seed=seed + 1, rounds=rounds)
    steady: list[dict[str, Any]] = []
    index = 0
    while len(document["benchmarks"]) + len(steady) < benchmarks:
        workload = f"synthetic_{index}"
        STEP_MEDIANS.setdefault(workload, 1e-3 * (1 + index % 7))
        add_execution(run, "cpu", batches=(1, 32, 256), workloads=(workload,))
        steady = [b for b in run.benchmarks if "test_step" in b["name"]]
        index += 1
    document["benchmarks"] += steady[: benchmarks - len(document["benchmarks"])]
    return document


def doctored(document: dict[str, Any], name: str, factor: float) -> dict[str, Any]:
    """A copy of `document` with benchmark `name`'s samples and stats multiplied by `factor`."""
    result = copy.deepcopy(document)
    (entry,) = [b for b in result["benchmarks"] if b["name"] == name]
    entry["stats"] = stats_of([value * factor for value in entry["stats"]["data"]])
    return result


def without_samples(document: dict[str, Any]) -> dict[str, Any]:
    """A copy of `document` as saved without raw samples (no stats.data)."""
    result = copy.deepcopy(document)
    for entry in result["benchmarks"]:
        entry["stats"].pop("data")
    return result


def write(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(json.dumps(document) + "\n")
    return path


def write_readable(path: Path, document: dict[str, Any]) -> Path:
    """Pretty-printed JSON with every list of numbers on one line, so a diff shows what changed."""
    path.write_text(_readable(document, "") + "\n")
    return path


def _readable(value: Any, indent: str) -> str:
    inner = indent + " "
    compact = json.dumps(value, sort_keys=True)
    if len(compact) <= 100:  # short dicts (params, metrics, options) stay on one line
        return compact
    if isinstance(value, dict):
        items = [
            f"{inner}{json.dumps(key)}: {_readable(value[key], inner)}" for key in sorted(value)
        ]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    if isinstance(value, list) and any(isinstance(item, (dict, list)) for item in value):
        return (
            "[\n"
            + ",\n".join(inner + _readable(item, inner) for item in value)
            + "\n"
            + indent
            + "]"
        )
    return json.dumps(value)


# Rounds per benchmark in the committed samples: fewer leave the compare tests without power.
SAMPLE_ROUNDS = 20


def regenerate() -> None:
    """Rewrites the committed samples: a base run and a second run of the same machine."""
    write_readable(DATA / "sample_base.json", full_run(seed=1, rounds=SAMPLE_ROUNDS))
    write_readable(DATA / "sample_head.json", full_run(seed=2, rounds=SAMPLE_ROUNDS))


if __name__ == "__main__":
    sys.exit(regenerate())
