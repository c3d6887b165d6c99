"""CONTRIBUTING.md's recipe: a seventh family from one declaration and three modules of its own."""

from __future__ import annotations

import json

import pytest

from tf2bench.errors import UsageError
from tf2bench.records import families
from tf2bench.records.schema import BenchRecord, load_results
from tf2bench.report.render import Document
from tf2bench.report.sections import build_document

pytestmark = pytest.mark.slow

# The declaration (in records/families.py it would be one more entry of FAMILIES).
ECHO = families.Family(
    "echo",
    "Echo",
    "How long does echoing a list take?",
    params=("length",),
    metrics=("echoed_items",),
    item_unit="items",
    report="echo_report",
    group=lambda record: f"{record.workload} copies",
)
# The workload module (tf2bench/workloads/echo.py).
WORKLOAD = """
def make_echo(length):
    items = list(range(length))
    return lambda: list(items)
"""
# The benchmark module (benchmarks/test_echo.py): the marker names the family, once.
BENCHMARK = """
import pytest
from echo_workload import make_echo

pytestmark = pytest.mark.tf2bench_family("echo")


@pytest.mark.parametrize("length", [10, 1000])
def test_echo(harness, length):
    record = harness.record("list", items_per_round=length, item_unit="items",
                            params={"length": length})
    harness.measure(make_echo(length), record,
                    derive=lambda measurement: {"echoed_items": float(length)})
"""
# The report module (tf2bench/report/sections/echo.py): its SECTIONS.
REPORT = """
import pandas as pd

from tf2bench.report.render import Section, Table


def echo_section(frame, multi):
    rows = frame[frame["family"] == "echo"]
    if rows.empty:
        return None
    cells = pd.DataFrame({"length": rows["param_length"].astype(str),
                          "items/s": rows["throughput_per_s"].map("{:.0f}".format)})
    return Section("Echo", [Table(cells)]), [f"**Echo**: {len(rows)} lengths measured."]


SECTIONS = (echo_section,)
"""


def test_a_tiny_family_runs_records_and_reports(pytester, monkeypatch):
    monkeypatch.setattr(families, "FAMILIES", (*families.FAMILIES, ECHO))
    pytester.makepyfile(echo_workload=WORKLOAD, test_echo=BENCHMARK, echo_report=REPORT)
    pytester.syspathinsert()
    for name in ("TF2BENCH_PRESET", "TF2BENCH_THREADS"):
        monkeypatch.setenv(name, "")  # the in-process plugin exports its settings here
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "--benchmark-only", "--benchmark-json=out.json",
        "--tf2bench-device=cpu", "--benchmark-max-time=0.01", "--benchmark-min-rounds=3",
    )  # fmt: skip
    result.assert_outcomes(passed=2)
    document = json.loads((pytester.path / "out.json").read_text())
    records = [bench["extra_info"]["tf2bench"] for bench in document["benchmarks"]]
    assert {record["family"] for record in records} == {"echo"}
    assert {bench["group"] for bench in document["benchmarks"]} == {"echo list copies"}
    assert sorted(record["metrics"]["echoed_items"] for record in records) == [10.0, 1000.0]
    report = build_document([load_results(pytester.path / "out.json")])
    assert isinstance(report, Document)
    titles = [section.title for section in report.sections]
    assert "Echo" in titles and "**Echo**: 2 lengths measured." in report.summary


def test_a_metric_no_family_declares_is_still_refused():
    with pytest.raises(UsageError, match="unknown metric names"):
        BenchRecord("echo", "list", metrics={"echoed_items": 1.0})
