"""What the report's figures encode, on golden records (no pixels): shared axes, batch order,
baselines, colours with a legend, and the distribution axes that an outlier cannot set."""

from __future__ import annotations

import numpy as np
import pytest
import report_records
from matplotlib.figure import Figure
from matplotlib.ticker import LogLocator
from report_records import DATA

from tf2bench.records.schema import load_results
from tf2bench.report.analysis import distribute_scaling
from tf2bench.report.axes import log_axis
from tf2bench.report.distributions import CLIP_QUANTILE, distribution_svg, panel_axis
from tf2bench.report.frames import results_frame
from tf2bench.report.sections.distribute import BASELINE_STRATEGY, scaling_figure
from tf2bench.report.sections.pipelines import stage_effects, stage_figure
from tf2bench.report.sections.saving import FORMAT_COLORS, saving_figure, saving_times
from tf2bench.report.sections.styles import (
    BASELINE_STYLE,
    style_overhead_figure,
    style_ratios,
)


@pytest.fixture(scope="module")
def frame():
    return results_frame([load_results(DATA / "sample_base.json")])


def test_style_ratios_are_against_one_baseline_with_batches_in_numeric_order(frame):
    ratios = style_ratios(frame)
    assert BASELINE_STYLE not in set(ratios["style"])
    assert {"lowlevel", "sequential", "subclassed"} <= set(ratios["style"])
    # The golden records list batches 1, 32, 256 per style; within a case they stay numeric.
    for _, part in ratios.groupby(["network", "op", "mode", "style"], dropna=False):
        batches = part["batch_size"].dropna().tolist()
        assert batches == sorted(batches)
    # Each ratio is the style's median over the baseline's, bracketed by its interval.
    assert np.allclose(ratios["ratio"], ratios["step_s"] / ratios["baseline_s"])
    bounded = ratios.dropna(subset=["ci_low"])
    assert (
        (bounded["ci_low"] <= bounded["ratio"]) & (bounded["ratio"] <= bounded["ci_high"])
    ).all()


def test_style_figure_shares_one_axis_and_marks_the_baseline(frame):
    ratios = style_ratios(frame)
    figure = style_overhead_figure(ratios)
    axes = figure.axes
    assert len(axes) == ratios["op"].nunique()
    assert len({ax.get_xlim() for ax in axes}) == 1  # one shared x axis
    assert all(ax.get_xscale() == "log" for ax in axes)
    for ax in axes:  # the 1x line of the baseline in every panel
        assert any(list(line.get_xdata()) == [1.0, 1.0] for line in ax.lines)
    labels = [t.get_text() for t in axes[-1].get_yticklabels()]
    batches = [int(label.rsplit("batch ", 1)[1]) for label in labels if "batch " in label]
    runs = [batches[i : i + 3] for i in range(0, len(batches), 3)]
    assert all(run == sorted(run) for run in runs)
    legend = [t.get_text() for t in figure.legends[0].get_texts()]
    assert f"{BASELINE_STYLE} (baseline, 1×)" in legend


def test_stage_effects_compare_a_variant_with_the_one_without_that_stage(monkeypatch, tmp_path):
    # Variants named by their stages, as the input_pipeline family names them.
    variants = {"seed": (0.2, 0.01), "seed+par": (0.3, 0.01), "seed+par+vec": (0.6, 0.01)}
    monkeypatch.setattr(report_records, "PIPELINE_VARIANTS", variants)
    run = report_records.RunBuilder(seed=3, rounds=30)
    report_records.add_input_pipeline(run, batches=(32,))
    path = report_records.write(tmp_path / "pipes.json", run.document())
    effects = stage_effects(results_frame([load_results(path)]))
    assert list(zip(effects["stage"], effects["base"], strict=True)) == [
        ("par", "seed"),
        ("vec", "seed+par"),
    ]
    # Throughput ratio: 0.3 / 0.2 of the limit, and 0.6 / 0.3.
    assert effects["ratio"].tolist() == pytest.approx([1.5, 2.0], rel=0.15)
    for row in effects.to_dict("records"):
        with_stages = set(row["variant"].split("+"))
        assert with_stages - set(row["base"].split("+")) == {row["stage"]}
    figure = stage_figure(effects)
    (ax,) = figure.axes
    assert ax.get_xscale() == "log"
    assert len(ax.get_yticklabels()) == len(effects)


def test_saving_figure_encodes_format_by_colour_with_a_legend(frame):
    saving = saving_times(frame)
    figure = saving_figure(saving)
    legend = [t.get_text() for t in figure.legends[0].get_texts()]
    assert set(legend) == set(saving["format"])
    for ax in figure.axes:
        for container in ax.containers:
            label = container.get_label()
            color = container.lines[0].get_color()
            assert color == FORMAT_COLORS[label]


def test_scaling_ideal_line_starts_at_the_stated_baseline(frame):
    scaling = distribute_scaling(frame)
    figure = scaling_figure(scaling)
    speed = figure.axes[0]
    (ideal,) = [line for line in speed.lines if line.get_label().startswith("ideal")]
    assert BASELINE_STRATEGY in ideal.get_label()
    network = scaling[scaling["network"] == scaling["network"].iloc[0]]
    single = network[(network["strategy"] == BASELINE_STRATEGY) & (network["replicas"] == 1)]
    assert ideal.get_ydata()[0] == pytest.approx(single["throughput_per_s"].iloc[0])


def test_one_outlier_cannot_set_a_distribution_axis():
    rng = np.random.default_rng(0)
    samples = [rng.normal(0.053, 0.002, 200), rng.normal(0.050, 0.002, 200)]
    samples[0][7] = 35.0  # one 35 s stall among 53 ms rounds
    low, high, log = panel_axis(samples)
    assert high < 0.07 and not log
    svg = distribution_svg([("group", ["a", "b"], samples)])
    assert "▸1" in svg and f"{CLIP_QUANTILE:.0%} quantile" in svg


def test_distribution_panels_are_sized_to_their_rows():
    rng = np.random.default_rng(1)
    few = [rng.normal(1, 0.1, 50) for _ in range(2)]
    many = [rng.normal(1, 0.1, 50) for _ in range(20)]
    small = distribution_svg([("g", ["x", "y"], few)])
    tall = distribution_svg([("g", [str(i) for i in range(20)], many)])
    height = lambda svg: float(svg.split('height="', 1)[1].split('"', 1)[0])  # noqa: E731
    assert height(tall) > 3 * height(small)


def test_minor_log_ticks_are_built_only_where_they_can_be_drawn():
    figure = Figure()
    ax = figure.subplots()
    ax.plot([0.6, 1.7], [0, 1])
    ax.set_xlim(0.5, 1.9)
    log_axis(ax, "x")
    # LogLocator alone returns the 2..9 multiples of the decades around the view as well.
    everything = LogLocator(subs=(2, 3, 4, 5, 6, 7, 8, 9)).tick_values(0.5, 1.9)
    assert len(everything) > 5
    assert np.allclose(ax.xaxis.get_minorticklocs(), [0.5, 0.6, 0.7, 0.8, 0.9])
    # Ticks on the ends of the view stay: matplotlib draws them.
    ax.set_xlim(0.6, 0.9)
    assert np.allclose(ax.xaxis.get_minorticklocs(), [0.6, 0.7, 0.8, 0.9])
