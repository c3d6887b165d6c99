"""Rewrites the committed samples and the golden outputs made from them (`make goldens`).

Run it after a deliberate change to the samples or to the report/compare output, then review
the diff of tests/data/ before committing: the golden tests only ever compare.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from goldens import GOLDEN_COMPARE, GOLDEN_REPORT, compare_output, render_report
from report_records import regenerate


def main() -> int:
    regenerate()
    with tempfile.TemporaryDirectory() as folder:
        report = render_report(Path(folder) / "report")
        GOLDEN_REPORT.write_text((report / "report.md").read_text())
    _, out = compare_output()
    GOLDEN_COMPARE.write_text(out)
    print(f"rewrote the samples, {GOLDEN_REPORT.name} and {GOLDEN_COMPARE.name}; review the diff")
    return 0


if __name__ == "__main__":
    sys.exit(main())
