"""History: many runs of one environment ordered by commit date, with the gate's flags."""

from __future__ import annotations

import copy

from report_records import FINGERPRINT, doctored, full_run, write

from tf2bench.records.schema import load_results
from tf2bench.report.history import history_frame, history_section, is_history, ordered_runs
from tf2bench.report.sections import build_document

SLOWED = "test_step[cpu-mlp_train-xla-32]"


def history_runs(tmp_path, count=3, slow_at=2):
    """`count` runs, written in reverse time order; SLOWED is 2x slower from run `slow_at`."""
    paths = []
    for index in range(count):
        fingerprint = {**FINGERPRINT, "git_commit": f"c{index}".ljust(40, "0")}
        fingerprint["git_commit_date"] = f"2026-12-0{index + 1}T10:00:00+00:00"
        document = full_run(seed=index, rounds=30, fingerprint=fingerprint)
        if index >= slow_at:
            document = doctored(document, SLOWED, 2.0)
        document = copy.deepcopy(document)
        paths.append(write(tmp_path / f"run{count - index}.json", document))
    return [load_results(path) for path in reversed(paths)]  # newest first on the command line


def test_runs_are_ordered_by_commit_date_not_by_command_line(tmp_path):
    runs = history_runs(tmp_path)
    ordered = ordered_runs(runs)
    dates = [run.fingerprint["git_commit_date"] for run, _ in ordered]
    assert dates == sorted(dates) and len(dates) == 3
    assert [point.label[:2] for _, point in ordered] == ["c0", "c1", "c2"]


def test_the_gate_flags_the_slowed_benchmark_at_the_run_that_slowed_it(tmp_path):
    history = history_frame(history_runs(tmp_path))
    slowed = history[history["name"] == SLOWED].sort_values("step")
    assert list(slowed["flag"]) == ["", "", "regression"]
    assert slowed["ratio"].iloc[-1] > 1.5
    # The interval brackets the median at every step.
    assert (slowed["low_s"] <= slowed["median_s"]).all()
    assert (slowed["median_s"] <= slowed["high_s"]).all()


def test_history_needs_three_runs_of_one_environment(tmp_path):
    runs = history_runs(tmp_path)
    assert is_history(runs)
    assert not is_history(runs[:2])
    other = {**FINGERPRINT, "tensorflow": "2.99.0"}
    foreign = load_results(write(tmp_path / "other.json", full_run(fingerprint=other)))
    assert not is_history([*runs[:2], foreign])
    assert history_section(runs[:2]) is None


def test_the_history_figure_draws_the_flagged_benchmark_first(tmp_path):
    # One report build: its History section is what history_section returns for these runs.
    document = build_document(history_runs(tmp_path))
    section = document.sections[1]
    assert section.title == "History"  # right after the inputs
    figure = section.blocks[2].figure
    first = figure.axes[0]
    assert first.get_title() == SLOWED
    # Three runs on the x axis, a red triangle at the last one.
    assert len(first.lines[0].get_xdata()) == 3
    assert "1 regression" in document.summary[0]  # the history's headline comes first
