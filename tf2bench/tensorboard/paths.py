"""TensorBoard logdir folders: benchmark names as run folder names, writable-logdir checks."""

from __future__ import annotations

import hashlib
import os
import re
import time
from pathlib import Path

from tf2bench.errors import OutputError, UsageError

__all__ = ["MAX_FOLDER_CHARS", "check_paths", "prepare_logdir", "run_folder_name"]

MAX_FOLDER_CHARS = 120


def run_folder_name(name: str) -> str:
    """A folder name for a benchmark: 'test_step[cpu-mlp-32]' -> 'test_step.cpu-mlp-32'.

    Keeps letters, digits, '-', '_' and '.', so TensorBoard run names need no URL escaping.
    """
    text = re.sub(r"[^A-Za-z0-9._-]+", ".", name.replace("[", ".").replace("]", ""))
    text = re.sub(r"\.{2,}", ".", text).strip(".")
    if not text:
        raise UsageError(f"Received a benchmark name with no usable characters: {name!r}")
    if len(text) > MAX_FOLDER_CHARS:  # a file name has at most 255 bytes; keep it unique
        digest = hashlib.sha256(name.encode("utf-8", "replace")).hexdigest()[:12]
        text = f"{text[: MAX_FOLDER_CHARS - len(digest) - 1]}.{digest}"
    return text


def check_paths(root: Path, folders: list[str]) -> None:
    """Refuses, before anything is written, folders under `root` the file system cannot hold.

    Raises:
        OutputError: a name or the whole path is too long.
    """
    limit = os.pathconf(root, "PC_PATH_MAX") if hasattr(os, "pathconf") else 4096
    for folder in folders:
        path = root / folder
        if len(os.fsencode(path)) >= limit:
            raise OutputError(
                f"cannot write summaries to {str(path)!r}: expected a path of at most {limit} "
                f"bytes, received {len(os.fsencode(path))}; choose a shorter --logdir"
            )


def prepare_logdir(logdir: str | Path, *, what: str = "profiles") -> Path:
    """Creates `logdir` if needed and checks that files can be created in it.

    Raises:
        OutputError: one line naming the folder and why it cannot be written.
    """
    path = Path(logdir).expanduser()
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".tf2bench-write-check-{time.monotonic_ns()}"
        probe.touch(exist_ok=False)
        probe.unlink()
    except OSError as error:
        reason = error.strerror or error.__class__.__name__
        raise OutputError(
            f"cannot write {what} to {str(logdir)!r}: expected a writable folder ({reason})"
        ) from None
    return path
