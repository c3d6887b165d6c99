"""Opening and writing results files: `.json` or gzip-compressed `.json.gz`, chosen by content.

Every command that takes a results file reads it through `read_results_text`, so a compressed
file works wherever a plain one does. Writing picks the format from the name and goes through a
temporary file renamed into place, so an existing file is replaced whole or not at all.
"""

from __future__ import annotations

import gzip
import json
import os
import tempfile
import zlib
from pathlib import Path
from typing import Any

from tf2bench.errors import OutputError, RecordError
from tf2bench.records.inputs import decompress_bounded, read_input

__all__ = ["GZIP_SUFFIX", "is_compressed_name", "read_results_text", "write_results"]

GZIP_SUFFIX = ".gz"
_GZIP_MAGIC = b"\x1f\x8b"


def is_compressed_name(path: str | os.PathLike[str]) -> bool:
    return str(path).endswith(GZIP_SUFFIX)


def read_results_text(path: str | os.PathLike[str]) -> str:
    """The JSON text of a results file, decompressed when it is gzip (by its magic bytes).

    Raises:
        RecordError: one line naming the file and why it cannot be read.
    """
    where = str(path)
    raw = read_input(path)  # a regular file of bounded size, checked before reading
    if raw[:2] == _GZIP_MAGIC:
        try:
            raw = decompress_bounded(raw, where=where)
        except (OSError, EOFError, zlib.error):
            raise RecordError(
                f"{where}: a truncated or damaged gzip file, expected gzip-compressed JSON"
            ) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise RecordError(f"{where}: cannot be read (not UTF-8 text or gzip)") from None


def write_results(path: str | os.PathLike[str], document: Any) -> Path:
    """Writes `document` as JSON to `path`, gzip-compressed when the name ends in `.gz`.

    Raises:
        OutputError: the file cannot be written (an earlier file is left untouched).
    """
    target = Path(path)
    data = json.dumps(document, indent=1 if not is_compressed_name(target) else None).encode()
    if is_compressed_name(target):
        data = gzip.compress(data, compresslevel=9, mtime=0)  # mtime=0: same input, same bytes
    try:
        handle, staging = tempfile.mkstemp(prefix=f".{target.name}.tmp-", dir=target.parent)
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(staging, 0o644)  # mkstemp makes it private; results are meant to be shared
        os.replace(staging, target)
    except OSError as error:
        raise OutputError(f"{target}: cannot be written ({error.strerror or error})") from None
    return target
