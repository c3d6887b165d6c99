"""The tf2bench record schema and the pytest-benchmark JSON reader."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tf2bench.errors import RecordError, UsageError
from tf2bench.records.schema import (
    BLOCK_KEY,
    SCHEMA_VERSION,
    BenchRecord,
    fingerprint_id,
    load_results,
)

DATA = Path(__file__).parent / "data"


def benchmark_entry(name="test_step[cpu-mlp_train-eager-32]", **record):
    block = BenchRecord(family="execution", workload="mlp_train", mode="eager", **record)
    return {
        "name": name,
        "fullname": f"benchmarks/test_execution.py::{name}",
        "group": "g",
        "params": {"mode": "eager"},
        "stats": {"median": 0.5, "iqr": 0.1, "mean": 0.6, "data": [0.4, 0.5, 0.6]},
        "extra_info": {BLOCK_KEY: block.to_extra_info()},
    }


def write(tmp_path, document, name="run.json"):
    path = tmp_path / name
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return path


def test_round_trip(tmp_path):
    document = {
        "machine_info": {BLOCK_KEY: {"tensorflow": "2.21.0", "cpu_count": 2}},
        "datetime": "2026-11-28T17:00:00",
        "benchmarks": [benchmark_entry(batch_size=32, metrics={"per_sample_s": 0.1})],
    }
    results = load_results(write(tmp_path, document))
    (bench,) = results.benchmarks
    assert bench.record.batch_size == 32 and bench.record.metrics == {"per_sample_s": 0.1}
    assert bench.samples == (0.4, 0.5, 0.6)
    assert bench.median_s == 0.5 and bench.iqr_s == 0.1
    assert results.fingerprint["tensorflow"] == "2.21.0"
    assert len(results.fingerprint_id) == 12


def test_extra_info_block_is_versioned():
    assert BenchRecord("execution", "x").to_extra_info()["schema_version"] == SCHEMA_VERSION


def test_unknown_metric_is_refused():
    with pytest.raises(UsageError, match="unknown metric names \\['speed'\\]"):
        BenchRecord("execution", "x", metrics={"speed": 1.0})


def test_fingerprint_id_ignores_fields_that_do_not_matter():
    base = {"tensorflow": "2.21.0", "cpu_model": "X"}
    assert fingerprint_id(base) == fingerprint_id({**base, "platform": "other", "preset": "quick"})
    assert fingerprint_id(base) != fingerprint_id({**base, "tensorflow": "2.20.0"})


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "the file is empty"),
        ('{"benchmarks": [', "not valid JSON \\(truncated"),
        ("hello", "not valid JSON"),
        ('{"results": []}', "not pytest-benchmark JSON"),
        ("[1, 2]", "not pytest-benchmark JSON"),
        ('{"benchmarks": []}', "holds no benchmarks"),
        ('{"benchmarks": [{"name": "a", "stats": {"median": 1}}]}', "not tf2bench results"),
    ],
)
def test_unusable_files_give_one_line_errors(tmp_path, content, message):
    path = write(tmp_path, content)
    with pytest.raises(RecordError, match=message) as error:
        load_results(path)
    assert str(error.value).startswith(str(path))
    assert "\n" not in str(error.value)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(RecordError, match="no such file"):
        load_results(tmp_path / "absent.json")
    with pytest.raises(RecordError, match="is a folder"):
        load_results(tmp_path)


def test_unsupported_schema_version(tmp_path):
    entry = benchmark_entry()
    entry["extra_info"][BLOCK_KEY]["schema_version"] = 99
    with pytest.raises(RecordError, match="schema_version 99 is not supported"):
        load_results(write(tmp_path, {"benchmarks": [entry]}))


def test_benchmark_without_median(tmp_path):
    entry = benchmark_entry()
    entry["stats"] = {"mean": 1.0}
    with pytest.raises(RecordError, match="has no stats.median"):
        load_results(write(tmp_path, {"benchmarks": [entry]}))


def test_foreign_benchmarks_are_counted_not_read(tmp_path):
    foreign = {"name": "other", "stats": {"median": 1.0}, "extra_info": {}}
    results = load_results(write(tmp_path, {"benchmarks": [benchmark_entry(), foreign]}))
    assert len(results.benchmarks) == 1 and results.skipped_foreign == 1


def test_v2_record_reads_per_process_samples():
    results = load_results(DATA / "v2_processes.json")
    (bench,) = results.benchmarks
    assert bench.processes == 3
    assert [p.tolist() for p in bench.process_samples] == [
        [0.0010, 0.0011, 0.0012],
        [0.0020, 0.0021],
        [0.0015, 0.0016, 0.0014, 0.0015],
    ]
    assert bench.samples == tuple(np.concatenate(bench.process_samples))


@pytest.mark.parametrize("version", [1, 2])
def test_a_v1_or_v2_block_with_retraces_still_reads(tmp_path, version):
    entry = benchmark_entry(tracing_count=1)
    assert "retraces" not in entry["extra_info"][BLOCK_KEY] and SCHEMA_VERSION == 3
    entry["extra_info"][BLOCK_KEY].update(schema_version=version, retraces=0)
    (bench,) = load_results(write(tmp_path, {"benchmarks": [entry]})).benchmarks
    assert bench.record == BenchRecord("execution", "mlp_train", mode="eager", tracing_count=1)


def test_v1_record_reads_as_one_process(tmp_path):
    entry = benchmark_entry()
    entry["extra_info"][BLOCK_KEY]["schema_version"] = 1
    (bench,) = load_results(write(tmp_path, {"benchmarks": [entry]})).benchmarks
    assert bench.processes == 1 and bench.process_samples[0].tolist() == [0.4, 0.5, 0.6]


def test_v1_record_without_samples_has_no_processes(tmp_path):
    entry = benchmark_entry()
    del entry["stats"]["data"]
    (bench,) = load_results(write(tmp_path, {"benchmarks": [entry]})).benchmarks
    assert bench.process_samples == () and bench.processes == 0


@pytest.mark.parametrize("processes", ["x", [{"data": ["a"]}], [{"index": 0}]])
def test_malformed_processes_give_one_line_errors(tmp_path, processes):
    entry = benchmark_entry()
    entry["extra_info"][BLOCK_KEY]["processes"] = processes
    with pytest.raises(RecordError, match="tf2bench processes"):
        load_results(write(tmp_path, {"benchmarks": [entry]}))
