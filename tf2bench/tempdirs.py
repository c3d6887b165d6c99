"""tf2bench's temporary folders: named after the owning process, removed once it is dead.

A folder is `<tmp>/tf2bench-<kind>-<pid>-<random>`. A process killed with SIGKILL cannot remove
its own; the next run does (`remove_stale`), touching only folders that match that pattern,
belong to this user, and whose pid no longer runs.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile
from pathlib import Path

__all__ = ["pid_alive", "remove_stale", "temp_prefix"]

_NAME = re.compile(r"tf2bench-([a-z]+)-(\d+)-[A-Za-z0-9_]+")


def temp_prefix(kind: str) -> str:
    """The `prefix=` for tempfile of a folder owned by this process (`kind`: letters only)."""
    if not kind.isalpha() or not kind.islower():
        raise ValueError(f"temp folder kind must be lowercase letters, received {kind!r}")
    return f"tf2bench-{kind}-{os.getpid()}-"


def remove_stale(folder: str | os.PathLike[str] | None = None) -> list[Path]:
    """Removes tf2bench temp folders of dead processes from `folder` (default: the temp dir).

    Returns:
        The folders removed.
    """
    root = Path(folder if folder is not None else tempfile.gettempdir())
    removed = []
    try:
        entries = list(os.scandir(root))
    except OSError:
        return removed
    for entry in entries:
        match = _NAME.fullmatch(entry.name)
        if match is None:
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():
            continue
        if pid_alive(int(match.group(2))):
            continue
        shutil.rmtree(entry.path, ignore_errors=True)
        removed.append(Path(entry.path))
    return removed


def pid_alive(pid: int) -> bool:
    """Whether process `pid` runs (this one, or any other, also another user's)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
