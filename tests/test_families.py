"""The family registry: each family's declaration names its records' pytest-benchmark group."""

from __future__ import annotations

import dataclasses

import pytest
from report_records import RunBuilder, add_training

from tf2bench.records import families
from tf2bench.records.families import FAMILIES, group_of
from tf2bench.records.schema import BenchRecord, parse_results
from tf2bench.report.sections import build_document

SPEC = {"source": "memory", "map": "rot90", "iteration": "next"}
# A record as each benchmark builds it, and the group its module used to set by hand.
GROUPS = [
    (BenchRecord("execution", "mlp_train", "xla", batch_size=32, params={"phase": "steady"}),
     "execution mlp_train batch=32"),
    (BenchRecord("execution", "many_small_ops", "eager", params={"phase": "steady"}),
     "execution many_small_ops batch=None"),
    (BenchRecord("execution", "cnn_train", "eager", batch_size=32,
                 params={"phase": "steady", "precision": "mixed_float16"}),
     "execution cnn_train batch=32"),
    (BenchRecord("execution", "mlp_train", "xla", batch_size=32, params={"phase": "cold"}),
     "execution cold start mlp_train"),
    (BenchRecord("execution", "retracing", "autograph",
                 params={"phase": "retrace", "variant": "no_signature", "shapes": 8}),
     "execution retracing"),
    (BenchRecord("input_pipeline", "limit", batch_size=4, items_per_round=2048.0),
     "input_pipeline limit"),
    (BenchRecord("input_pipeline", "pipeline", batch_size=256, items_per_round=2048,
                 params=SPEC), "input_pipeline 2048 elements"),
    (BenchRecord("input_pipeline", "iteration", batch_size=4, items_per_round=2048,
                 params={**SPEC, "iteration": "python"}), "input_pipeline iteration b4"),
    (BenchRecord("input_pipeline", "consumer", batch_size=32, items_per_round=512,
                 params={**SPEC, "consumer": "cnn_train"}),
     "input_pipeline consumer cnn train b32"),
    (BenchRecord("model_styles", "mlp", style="sequential", params={"op": "build"}),
     "model_styles build mlp"),
    (BenchRecord("model_styles", "cnn", "eager", "subclassed", batch_size=32,
                 params={"op": "first_call"}), "model_styles first_call cnn"),
    (BenchRecord("model_styles", "mlp", "autograph", "functional", batch_size=1,
                 params={"op": "call"}), "model_styles call mlp batch=1"),
    (BenchRecord("model_styles", "mlp", None, "sequential", batch_size=256,
                 params={"op": "predict"}), "model_styles predict mlp batch=256"),
    (BenchRecord("training", "mlp", "xla", "functional", batch_size=32,
                 params={"loop": "custom", "steps_per_execution": 1, "epoch": "first"}),
     "training mlp first epoch"),
    (BenchRecord("saving", "mlp", style="lowlevel", params={"op": "savedmodel_save"}),
     "saving savedmodel_save mlp"),
    (BenchRecord("saving", "cnn", style="functional", params={"op": "keras_load"}),
     "saving keras_load cnn"),
    (BenchRecord("saving", "mlp", style="lowlevel", batch_size=1, params={"op": "serve_live"}),
     "saving serve mlp batch=1"),
    (BenchRecord("saving", "mlp", style="lowlevel", batch_size=1,
                 params={"op": "serve_reloaded"}), "saving serve mlp batch=1"),
    (BenchRecord("distribute", "mlp", "autograph", batch_size=64,
                 params={"strategy": "mirrored", "steps_per_round": 10}),
     "distribute mlp global_batch=64"),
]  # fmt: skip


@pytest.mark.parametrize(("record", "group"), GROUPS, ids=[group for _, group in GROUPS])
def test_the_group_comes_from_the_family_declaration(record, group):
    assert group_of(record) == group


def test_every_family_declares_its_group_and_report_module():
    assert {record.family for record, _ in GROUPS} == {declared.name for declared in FAMILIES}
    assert all(declared.group and declared.report for declared in FAMILIES)


@pytest.mark.parametrize("declared", [True, False], ids=["declared", "without_report"])
def test_a_family_section_is_found_only_through_its_declaration(monkeypatch, declared):
    if not declared:
        registry = [dataclasses.replace(f, report=None) if f.name == "training" else f
                    for f in FAMILIES]  # fmt: skip
        monkeypatch.setattr(families, "FAMILIES", tuple(registry))
    run = RunBuilder(seed=3)
    add_training(run)
    titles = [s.title for s in build_document([parse_results(run.document(), where="t")]).sections]
    assert ("Training loops" in titles) is declared
    assert ("Other results" in titles) is not declared


def test_a_family_without_a_declared_group_groups_by_workload():
    assert group_of(BenchRecord("echo", "list")) == "echo list"
