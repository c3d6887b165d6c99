"""The outputs the golden tests compare with tests/data/golden_*: made the same way by both."""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
from pathlib import Path

from report_records import DATA, doctored, write

from tf2bench.cli import main

REPO = Path(__file__).resolve().parents[1]
GOLDEN_REPORT = DATA / "golden_report.md"
GOLDEN_COMPARE = DATA / "golden_compare.txt"
# The benchmarks the golden change table doctors: one slower, one faster.
SLOWER = "test_step[cpu-mlp_train-xla-32]"
FASTER = "test_step[cpu-cnn_train-eager-1]"


@contextlib.contextmanager
def _inside(folder: Path):
    cwd = os.getcwd()
    os.chdir(folder)  # the outputs show paths as given on the command line
    try:
        yield
    finally:
        os.chdir(cwd)


def render_report(out: Path) -> Path:
    """Renders the report of the committed base sample into `out`, from the repository root."""
    with _inside(REPO), contextlib.redirect_stdout(io.StringIO()):
        code = main(["report", "tests/data/sample_base.json", "--out", str(out)])
    assert code == 0, f"tf2bench report exited {code}"
    return out


def compare_output() -> tuple[int, str]:
    """`tf2bench compare` of the base sample with a doctored copy: its exit code and stdout."""
    base_document = json.loads((DATA / "sample_base.json").read_text())
    with tempfile.TemporaryDirectory() as folder:
        write(Path(folder) / "base.json", base_document)
        head = doctored(doctored(base_document, SLOWER, 1.3), FASTER, 0.7)
        write(Path(folder) / "head.json", head)
        stdout = io.StringIO()
        with _inside(Path(folder)), contextlib.redirect_stdout(stdout):
            code = main(["compare", "base.json", "head.json"])
    return code, stdout.getvalue()
