"""The rendered report: golden tables from committed records, figures, HTML, several runs, noise."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from goldens import GOLDEN_REPORT, render_report
from report_records import DATA, RunBuilder, add_execution, write

from tf2bench.cli import main
from tf2bench.records.stats import median_ci

# Every test here renders a whole report with figures.
pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def base_report(tmp_path_factory) -> Path:
    """The report of the committed base sample, rendered once from the repository root."""
    return render_report(tmp_path_factory.mktemp("base") / "report")


def section(markdown: str, title: str) -> str:
    """The text of one '## title' section."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", markdown, re.S | re.M)
    assert match, f"no section {title!r}"
    return match.group(1)


def table_rows(text: str) -> list[list[str]]:
    return [
        [cell.strip() for cell in line.strip("|").split(" | ")]
        for line in text.splitlines()
        if line.startswith("| ") and not line.startswith("|---")
    ]


def test_golden_report(base_report):
    # After a deliberate change: `make goldens`, then review the diff.
    assert (base_report / "report.md").read_text() == GOLDEN_REPORT.read_text()


def test_speedup_table_matches_the_raw_medians(base_report):
    document = json.loads((DATA / "sample_base.json").read_text())
    median = {b["name"]: b["stats"]["median"] for b in document["benchmarks"]}
    text = section(
        (base_report / "report.md").read_text(), "Execution modes: eager vs AutoGraph vs XLA"
    )
    header, *rows = table_rows(text)
    row = next(r for r in rows if r[:3] == ["cpu", "control_flow", "256"])
    speedup = row[header.index("xla speedup")]
    expected = (
        median["test_step[cpu-control_flow-eager-256]"]
        / median["test_step[cpu-control_flow-xla-256]"]
    )
    assert speedup.startswith(f"{expected:.2f}×"), speedup
    assert re.fullmatch(r"\d\.\d\d× \(\d\.\d\d–\d\.\d\d\)", speedup)


def test_report_starts_with_the_answer_and_has_every_family(base_report):
    markdown = (base_report / "report.md").read_text()
    assert markdown.startswith(
        "# tf2bench report\n\n## Answer at a glance\n\n- **autograph vs eager**"
    )
    titles = re.findall(r"^## (.+)$", markdown, re.M)
    assert titles == [
        "Answer at a glance",
        "Inputs",
        "Execution modes: eager vs AutoGraph vs XLA",
        "Cold start vs steady state",
        "Retracing",
        "tf.data input pipelines",
        "Model-building styles",
        "Training loops",
        "Saving and reloading",
        "Devices and scale",
        "CPU vs GPU",
        "Other results",
        "Latency distributions",
        "Noisy results",
        "All results",
    ]
    assert "`serving`" in section(markdown, "Other results")  # the family nobody knows
    count = len(json.loads((DATA / "sample_base.json").read_text())["benchmarks"])
    assert len(table_rows(section(markdown, "All results"))) == 1 + count


def test_figures_are_written_as_svg_and_linked(base_report):
    markdown = (base_report / "report.md").read_text()
    linked = set(re.findall(r"\]\((figures/[^)]+\.svg)\)", markdown))
    written = {f"figures/{p.name}" for p in (base_report / "figures").glob("*.svg")}
    assert linked == written and len(written) >= 8
    for name in written:
        svg = (base_report / name).read_text()
        marks = sum(svg.count(tag) for tag in ("<path", "<rect", "<line", "<circle"))
        assert "<svg" in svg and marks > 5, name


# Anything that makes a browser fetch: src/href to another file or URL, CSS url(), @import.
EXTERNAL = re.compile(r"""\b(?:src|href)\s*=\s*["'](?!#)|url\((?!#)|@import|https?://""")


def test_html_is_one_self_contained_page(base_report):
    html = (base_report / "report.html").read_text()
    markdown = (base_report / "report.md").read_text()
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</body></html>")
    assert EXTERNAL.search(html) is None, EXTERNAL.search(html)
    assert "<img" not in html
    # Every figure of the Markdown is inline in the page.
    figures = re.findall(r"\]\(figures/([^)]+)\.svg\)", markdown)
    assert sorted(re.findall(r'<figure id="figure-([^"]+)"><svg', html)) == sorted(figures)
    tables_md = len(re.findall(r"^\|---", markdown, re.M))
    assert html.count('<table class="sortable">') == tables_md
    # Long tables are folded, and every section is in the navigation.
    assert "<details><summary>" in html
    nav = html[html.index('<nav class="families">') : html.index("</nav>")]
    for anchor in re.findall(r'<h2 id="([^"]+)">', html):
        assert f'href="#{anchor}"' in nav


def test_several_files_side_by_side(tmp_path):
    paths = []
    for seed, machine in ((1, "laptop"), (2, "workstation")):
        run = RunBuilder(seed=seed)
        add_execution(run, batches=(32,), workloads=("mlp_train",))
        (tmp_path / machine).mkdir()
        paths.append(str(write(tmp_path / machine / "run.json", run.document())))
    out = tmp_path / "report"
    assert main(["report", *paths, "--out", str(out)]) == 0
    markdown = (out / "report.md").read_text()
    inputs = table_rows(section(markdown, "Inputs"))
    assert [row[0] for row in inputs[1:]] == ["laptop/run", "workstation/run"]
    side = table_rows(section(markdown, "Runs side by side"))
    assert side[0][:3] == ["benchmark", "family", "run"]
    assert {row[2] for row in side[1:]} == {"workstation/run"} and len(side) == 1 + 15
    assert "**workstation/run vs laptop/run**: time ratio" in markdown
    speedups = table_rows(section(markdown, "Execution modes: eager vs AutoGraph vs XLA"))
    assert [row[0] for row in speedups[1:]] == ["laptop/run"] * 3 + ["workstation/run"] * 3
    assert (out / "figures" / "runs_side_by_side.svg").is_file()


def test_noisy_results_are_flagged(tmp_path):
    run = RunBuilder(seed=9)
    add_execution(run, batches=(32,), workloads=("mlp_train",))
    run.add(
        "benchmarks/test_execution.py::test_jittery",
        {"device": "cpu"},
        1e-3,
        group="jitter",
        spread=0.4,
        family="execution",
        workload="jittery",
        mode="eager",
    )
    path = write(tmp_path / "noisy.json", run.document())
    out = tmp_path / "report"
    assert main(["report", str(path), "--out", str(out)]) == 0
    markdown = (out / "report.md").read_text()
    stats = json.loads(path.read_text())["benchmarks"][-1]["stats"]
    assert median_ci([stats["data"]]).noisy
    # Among steady steps (40 rounds) only the jittery one; 5-round cold starts cannot resolve
    # 10% and are flagged too.
    noisy = table_rows(section(markdown, "Noisy results"))
    steady = [row[0] for row in noisy[1:] if not row[0].startswith("test_cold_start")]
    assert steady == ["test_jittery[cpu]"]
    everything = table_rows(section(markdown, "All results"))
    flagged = [row[0] for row in everything if "⚠" in row[2]]
    assert [name for name in flagged if not name.startswith("test_cold_start")] == steady
