"""tools/interval_coverage.py: which intervals of one run contain a rerun's median."""

from __future__ import annotations

import importlib.util
import json

from report_records import DATA, doctored, write

from tf2bench.records.schema import BLOCK_KEY

spec = importlib.util.spec_from_file_location(
    "interval_coverage", DATA.parents[1] / "tools" / "interval_coverage.py"
)
interval_coverage = importlib.util.module_from_spec(spec)
spec.loader.exec_module(interval_coverage)

STEP = "test_step[cpu-mlp_train-xla-32]"


def test_a_run_covers_itself_and_misses_a_shifted_benchmark(tmp_path):
    base = json.loads((DATA / "sample_base.json").read_text())
    executions = sum(
        b["extra_info"][BLOCK_KEY]["family"] == "execution" for b in base["benchmarks"]
    )
    same = write(tmp_path / "same.json", base)
    shifted = write(tmp_path / "shifted.json", doctored(base, STEP, 1.5))

    assert interval_coverage.coverage(same, same, "execution") == (executions, [])
    compared, misses = interval_coverage.coverage(same, shifted, "execution")
    assert compared == executions
    assert [name for name, _ in misses] == [STEP]
    assert abs(misses[0][1] - 1.5) < 0.05


def test_no_common_benchmark_is_exit_2(tmp_path, capsys):
    base = write(tmp_path / "base.json", json.loads((DATA / "sample_base.json").read_text()))
    assert interval_coverage.main([str(base), str(base), "--family", "no_such_family"]) == 2
    assert "no no_such_family benchmark" in capsys.readouterr().err
