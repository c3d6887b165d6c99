"""pytest-benchmark's own storage: a merged run saved as `<storage>/<machine_id>/NNNN_<tag>.json`.

pytest-benchmark's autosave drops `stats.data` unless --benchmark-save-data is given, and a
repeated run would autosave once per process; so the merged document (with its raw data) is
saved here once, named as pytest-benchmark names autosaves, and `--benchmark-compare` and
`--benchmark-compare-fail` read it as usual.
"""

from __future__ import annotations

import os
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pytest_benchmark.utils import get_machine_id

from tf2bench.records.files import write_results

__all__ = ["save_to_storage", "storage_tag"]

_NUMBERED = re.compile(r"^(\d{4})_.*\.json$")


def storage_tag(document: dict[str, Any], now: datetime | None = None) -> str:
    """pytest-benchmark's autosave tag: commit id, UTC time, and whether the tree was dirty."""
    commit = document.get("commit_info") or {}
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%d_%H%M%S")
    parts = [str(commit.get("id") or "unversioned"), stamp]
    if commit.get("dirty"):
        parts.append("uncommitted-changes")
    return "_".join(parts)


def save_to_storage(
    document: dict[str, Any], storage: str | os.PathLike[str], machine_id: str | None = None
) -> Path:
    """Saves the document with the next free counter; returns the file written."""
    folder = Path(storage) / (machine_id or get_machine_id())
    numbers = [
        int(match.group(1))
        for match in (_NUMBERED.match(path.name) for path in folder.glob("*.json"))
        if match
    ]
    counter = max(numbers, default=0) + 1
    folder.mkdir(parents=True, exist_ok=True)
    return write_results(folder / f"{counter:04d}_{storage_tag(document)}.json", document)
