"""Merging per-process pytest-benchmark JSON into one run, and pytest-benchmark's storage."""

from __future__ import annotations

import statistics

import pytest
from pytest_benchmark.storage.file import FileStorage

from tf2bench.errors import OutputError, RecordError
from tf2bench.harness.storage import save_to_storage, storage_tag
from tf2bench.records.merge import (
    check_json_target,
    merge_documents,
    recompute_stats,
)
from tf2bench.records.schema import parse_results


def entry(name: str, data: list[float], first_call: float, **block) -> dict:
    stats = recompute_stats(data)
    return {
        "group": None,
        "name": name,
        "fullname": f"benchmarks/test_x.py::{name}",
        "params": {},
        "param": None,
        "extra_info": {
            "tf2bench": {
                "schema_version": 1,
                "family": "execution",
                "workload": "mlp_train",
                "mode": "eager",
                "first_call_s": first_call,
                "warmup_calls": 3,
                "items_per_round": 32.0,
                "throughput_per_s": 32.0 / stats["median"],
                "metrics": {"per_sample_s": stats["median"] / 32, "peak_host_bytes": 100.0},
                **block,
            }
        },
        "options": {},
        "stats": stats,
    }


def document(*entries: dict, load: float = 0.1) -> dict:
    return {
        "machine_info": {"node": "x", "tf2bench": {"tensorflow": "2.21.0", "load": load}},
        "commit_info": {"id": "abc123", "dirty": False},
        "benchmarks": list(entries),
        "datetime": "2026-12-03T07:00:00",
        "version": "5.1.0",
    }


P1 = [1.0, 1.2, 1.1]
P2 = [2.0, 2.2]
P3 = [1.5]


def three_processes() -> list[tuple[int, dict]]:
    # Given out of order: the merge sorts by process index.
    return [
        (2, document(entry("a", P2, 0.9, metrics={"peak_host_bytes": 300.0}), load=0.2)),
        (1, document(entry("a", P1, 0.5), entry("b", [5.0, 6.0], 0.1), load=0.1)),
        (3, document(entry("a", P3, 0.7, metrics={"peak_host_bytes": 200.0}), load=0.3)),
    ]


def test_samples_are_concatenated_in_process_order_and_stats_recomputed():
    merged = merge_documents(three_processes(), mode="selection", processes=3)
    a = merged["benchmarks"][0]
    assert a["name"] == "a"
    assert a["stats"]["data"] == P1 + P2 + P3
    assert a["stats"]["median"] == statistics.median(P1 + P2 + P3)
    assert a["stats"]["rounds"] == 6
    assert a["stats"]["max"] == 2.2 and a["stats"]["min"] == 1.0
    assert a["stats"]["mean"] == pytest.approx(statistics.mean(P1 + P2 + P3))
    processes = a["extra_info"]["tf2bench"]["processes"]
    assert [p["index"] for p in processes] == [1, 2, 3]
    assert [p["data"] for p in processes] == [P1, P2, P3]
    assert [p["first_call_s"] for p in processes] == [0.5, 0.9, 0.7]
    assert all(p["warmup_calls"] == 3 for p in processes)


def test_once_per_process_numbers_are_medians_and_rates_follow_the_merged_median():
    merged = merge_documents(three_processes(), mode="selection", processes=3)
    block = merged["benchmarks"][0]["extra_info"]["tf2bench"]
    median = merged["benchmarks"][0]["stats"]["median"]
    assert block["first_call_s"] == 0.7
    assert block["throughput_per_s"] == pytest.approx(32.0 / median)
    assert block["metrics"]["per_sample_s"] == pytest.approx(median / 32)
    assert block["metrics"]["peak_host_bytes"] == 200.0


def test_run_level_fields_come_from_the_first_process_with_the_process_count():
    merged = merge_documents(three_processes(), mode="benchmark", processes=3)
    assert merged["machine_info"]["tf2bench"]["load"] == 0.1
    assert merged["machine_info"]["tf2bench"]["processes"] == 3
    assert merged["machine_info"]["tf2bench"]["process_mode"] == "benchmark"
    # A benchmark only one process ran keeps that process alone.
    b = merged["benchmarks"][1]
    assert b["stats"]["data"] == [5.0, 6.0]
    assert [p["index"] for p in b["extra_info"]["tf2bench"]["processes"]] == [1]


def test_the_merged_file_reads_as_tf2bench_results():
    results = parse_results(
        merge_documents(three_processes(), mode="selection", processes=3), where="m"
    )
    assert [b.name for b in results.benchmarks] == ["a", "b"]
    assert results.benchmarks[0].samples == tuple(P1 + P2 + P3)


def test_benchmarks_without_samples_are_left_out_and_none_at_all_is_an_error():
    empty = entry("c", [1.0], 0.1)
    empty["stats"]["data"] = []
    merged = merge_documents(
        [(1, document(entry("a", P1, 0.1), empty))], mode="selection", processes=1
    )
    assert [b["name"] for b in merged["benchmarks"]] == ["a"]
    with pytest.raises(RecordError, match="raw samples"):
        merge_documents([(1, document(empty))], mode="selection", processes=1)
    with pytest.raises(RecordError, match="process mode"):
        merge_documents(three_processes(), mode="interleaved", processes=3)


def test_a_foreign_benchmark_is_merged_without_a_tf2bench_block():
    foreign = entry("plain", P1, 0.1)
    foreign["extra_info"] = {}
    other = entry("plain", P2, 0.1)
    other["extra_info"] = {}
    merged = merge_documents(
        [(1, document(foreign)), (2, document(other))], mode="selection", processes=2
    )
    assert merged["benchmarks"][0]["stats"]["data"] == P1 + P2
    assert merged["benchmarks"][0]["extra_info"] == {}


def test_check_json_target_refuses_folders_and_other_names(tmp_path):
    assert check_json_target(tmp_path / "new" / "r.json") == tmp_path / "new" / "r.json"
    assert (tmp_path / "new").is_dir()
    assert check_json_target(tmp_path / "r.json.gz").name == "r.json.gz"
    for bad in (tmp_path, tmp_path / "r.txt"):
        with pytest.raises(OutputError, match="expected a file path ending in .json"):
            check_json_target(bad)


def test_storage_numbers_files_like_pytest_benchmark_and_keeps_raw_data(tmp_path):
    merged = merge_documents(three_processes(), mode="selection", processes=3)
    first = save_to_storage(merged, tmp_path, machine_id="Linux-CPython-3.11-64bit")
    second = save_to_storage(merged, tmp_path, machine_id="Linux-CPython-3.11-64bit")
    assert first.parent.name == "Linux-CPython-3.11-64bit"
    assert first.name.startswith("0001_abc123_") and second.name.startswith("0002_abc123_")
    storage = FileStorage(tmp_path, logger=None, default_machine_id="Linux-CPython-3.11-64bit")
    loaded = [data for _, data in storage.load()]
    assert len(loaded) == 2
    assert loaded[-1]["benchmarks"][0]["stats"]["data"] == P1 + P2 + P3


def test_storage_tag_marks_a_dirty_tree():
    dirty = {"commit_info": {"id": "abc", "dirty": True}}
    assert storage_tag(dirty).startswith("abc_") and storage_tag(dirty).endswith(
        "_uncommitted-changes"
    )
    assert storage_tag({}).startswith("unversioned_")
