"""Reading an input file safely: regular files only, bounded size, bounded JSON nesting.

A device file or FIFO (`/dev/zero`, a pipe) would be read forever and a huge file exhausts
memory, so both are refused from `os.stat` before a byte is read.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import stat
from pathlib import Path
from typing import Any

from tf2bench.errors import RecordError

__all__ = ["MAX_INPUT_BYTES", "decode_json", "decompress_bounded", "read_input"]

# 256 MiB of JSON is ~10 million raw samples, far beyond any tf2bench run (the reference run,
# 99 benchmarks, is ~1 MiB). Compressed inputs are bounded by their size once decompressed.
MAX_INPUT_BYTES = 256 * 1024 * 1024


def read_input(path: str | os.PathLike[str], *, limit: int | None = None) -> bytes:
    """The bytes of a regular file of at most `limit` bytes.

    Raises:
        RecordError: one line: no such file, a folder, not a regular file, too large, unreadable.
    """
    where = str(path)
    limit = MAX_INPUT_BYTES if limit is None else limit
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise RecordError(f"{where}: no such file") from None
    except OSError as error:
        raise RecordError(f"{where}: cannot be read ({_reason(error)})") from None
    if stat.S_ISDIR(info.st_mode):
        raise RecordError(f"{where}: is a folder, expected a pytest-benchmark JSON file")
    if not stat.S_ISREG(info.st_mode):
        raise RecordError(f"{where}: is a device, pipe or socket, expected a regular file")
    if info.st_size > limit:
        raise RecordError(f"{where}: {info.st_size} bytes, expected at most {limit} bytes")
    try:
        with Path(path).open("rb") as stream:
            data = stream.read(limit + 1)  # the file may have grown since stat
    except OSError as error:
        raise RecordError(f"{where}: cannot be read ({_reason(error)})") from None
    if len(data) > limit:
        raise RecordError(f"{where}: more than {limit} bytes, expected at most {limit} bytes")
    return data


def decode_json(data: bytes | str, *, where: str) -> Any:
    """JSON from bytes or text; every malformed or pathological document is one RecordError."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError:
        raise RecordError(f"{where}: not UTF-8 text, expected pytest-benchmark JSON") from None
    if not text.strip():
        raise RecordError(f"{where}: the file is empty, expected pytest-benchmark JSON")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise RecordError(
            f"{where}: not valid JSON (truncated or not JSON: {error.msg} at line {error.lineno})"
        ) from None
    except RecursionError:
        raise RecordError(
            f"{where}: JSON nested too deeply, expected pytest-benchmark JSON"
        ) from None
    except ValueError as error:  # e.g. an integer literal beyond Python's digit limit
        raise RecordError(f"{where}: unusable JSON value ({str(error)[:80]})") from None


def decompress_bounded(data: bytes, *, where: str, limit: int | None = None) -> bytes:
    """gzip `data` decompressed, refused once it passes `limit` bytes (a gzip bomb)."""
    limit = MAX_INPUT_BYTES if limit is None else limit
    with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
        out = stream.read(limit + 1)
    if len(out) > limit:
        raise RecordError(
            f"{where}: more than {limit} bytes once decompressed, expected at most {limit}"
        )
    return out


def _reason(error: OSError) -> str:
    return error.strerror or error.__class__.__name__
