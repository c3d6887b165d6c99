"""Writing a report folder: never lose an earlier report, never touch a folder that is not one.

    check_output(DIR)   before any work: DIR is absent, empty, or carries the report mark
    write_report(doc)   lock DIR's parent (flock), recover or clear what a killed writer left,
                        build the report in .DIR.tmp-<pid>-* beside DIR, then swap it into
                        place with one atomic renameat2(RENAME_EXCHANGE), and remove the old one

Every report folder holds a `.tf2bench-report` mark (a small JSON manifest); only folders that
carry it are ever replaced. A symlink given as DIR is followed: the report replaces the folder
the link points to and the link stays as it was. A dangling link is refused.
Where the file system cannot exchange atomically, two renames are used, and a writer killed
between them is repaired by the next writer, which puts the earlier report back first.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import matplotlib

from tf2bench import __version__
from tf2bench.errors import OutputError
from tf2bench.report import render
from tf2bench.tempdirs import pid_alive

__all__ = ["MARK", "check_output", "write_report"]

MARK = ".tf2bench-report"
_RENAME_EXCHANGE = 2  # <linux/fs.h>
_AT_FDCWD = -100
# Names this module gives its work folders beside DIR; the pid says whose they are.
_WORK_NAME = r"\.{name}\.(tmp|old)-(\d+)-\w+"


def check_output(out_dir: str | os.PathLike[str]) -> Path:
    """The report folder (a symlink followed), if a report can be written there.

    Raises:
        OutputError: a parent is a file, DIR is a file or a dangling link, or DIR holds files
            and no report mark.
    """
    target = Path(out_dir).absolute()
    try:
        return _checked(target)
    except PermissionError as error:
        raise OutputError(f"{target}: cannot be read ({_reason(error)})") from None


def _checked(target: Path) -> Path:
    if target.is_symlink():
        if not target.exists():
            raise OutputError(f"{target}: is a dangling symlink, expected a folder for the report")
        target = target.resolve()
    blocker = next((p for p in target.parents if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        raise OutputError(f"{target}: cannot be written ({blocker} is a file, not a folder)")
    if target.exists() and not target.is_dir():
        raise OutputError(f"{target}: exists and is not a folder, expected a folder for the report")
    if target.is_dir() and not (target / MARK).is_file():
        names = sorted(p.name for p in target.iterdir())
        if names:
            raise OutputError(
                f"{target}: holds files that are not part of a tf2bench report "
                f"({', '.join(names[:3])}) and no {MARK} mark, expected an empty folder or "
                "an earlier report"
            )
    return target


def write_report(
    document: render.Document,
    out_dir: str | os.PathLike[str],
    progress: Callable[[str], None] = lambda step: None,
) -> Path:
    """Writes DIR/report.md, DIR/report.html, DIR/figures/*.svg and the mark, replacing DIR whole;
    `progress` is told each figure.

    Raises:
        OutputError: DIR cannot be written, is not a report folder, or is being written by
            another tf2bench process.
    """
    target = check_output(out_dir)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(f"{out_dir}: cannot be written ({_reason(error)})") from None
    with _locked(target.parent, out_dir):
        _recover(target)
        check_output(target)  # again, under the lock: the folder may have changed meanwhile
        try:
            staging = Path(
                tempfile.mkdtemp(prefix=f".{target.name}.tmp-{os.getpid()}-", dir=target.parent)
            )
        except OSError as error:
            raise OutputError(f"{out_dir}: cannot be written ({_reason(error)})") from None
        try:
            staging.chmod(0o755)  # mkdtemp makes it private; a report is meant to be read
            (staging / "figures").mkdir()
            # Names from records may hold `$`: never parse them as mathtext.
            with matplotlib.rc_context({"text.parse_math": False}):
                plots = document.plots()
                for index, plot in enumerate(plots):
                    progress(f"figure {index + 1} of {len(plots)}: {plot.name}")
                    (staging / plot.path).write_text(plot.svg, encoding="utf-8")
            (staging / "report.md").write_text(render.render_markdown(document), encoding="utf-8")
            (staging / "report.html").write_text(render.render_html(document), encoding="utf-8")
            manifest = {"tf2bench_report": 1, "version": __version__}
            (staging / MARK).write_text(json.dumps(manifest) + "\n", encoding="utf-8")
            _swap_into_place(staging, target)
        except OSError as error:
            raise OutputError(f"{out_dir}: cannot be written ({_reason(error)})") from None
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return target


@contextlib.contextmanager
def _locked(folder: Path, out_dir: object) -> Iterator[None]:
    """An exclusive flock on DIR's parent folder (no lock file is left behind)."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OutputError(
                f"{out_dir}: another tf2bench process is writing a report in {folder}; "
                "run again when it has finished"
            ) from None
        yield
    finally:
        os.close(fd)  # releases the lock


def _recover(target: Path) -> None:
    """Puts back an earlier report a killed writer had moved aside; removes its work folders."""
    pattern = re.compile(_WORK_NAME.format(name=re.escape(target.name)))
    for path in sorted(target.parent.iterdir()):
        match = pattern.fullmatch(path.name)
        if match is None or not path.is_dir() or pid_alive(int(match.group(2))):
            continue
        if match.group(1) == "old" and not target.exists() and (path / MARK).is_file():
            path.rename(target)  # the swap was cut between its two renames
        else:
            shutil.rmtree(path, ignore_errors=True)


def _swap_into_place(staging: Path, target: Path) -> None:
    """staging becomes target in one atomic step; the earlier report, if any, is removed."""
    if not target.exists():
        staging.rename(target)
        return
    if _exchange(staging, target):
        shutil.rmtree(staging, ignore_errors=True)  # now holds the earlier report
        return
    retired = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-{os.getpid()}-", dir=target.parent))
    retired.rmdir()  # only the unique name is wanted; rename needs it free
    target.rename(retired)
    try:
        staging.rename(target)
    except OSError:
        retired.rename(target)  # put the earlier report back
        raise
    shutil.rmtree(retired, ignore_errors=True)


def _exchange(first: Path, second: Path) -> bool:
    """Atomically swaps two paths (Linux renameat2); False where that is not supported."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    result = renameat2(
        _AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE
    )
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(second))


def _reason(error: OSError) -> str:
    return error.strerror or error.__class__.__name__
