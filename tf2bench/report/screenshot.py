"""Renders an HTML report to a PNG with headless Chromium (for the README's picture of the report).

    .venv/bin/python -m tf2bench.report.screenshot reports/reference/report.html \\
        reports/reference.png [--width 1280] [--height 4000]

Chromium runs with a fresh, temporary profile (removed afterwards), no network services, no
sandbox (tests and CI run as root) and a time limit.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from tf2bench.errors import OutputError, Tf2benchError, UsageError
from tf2bench.tempdirs import temp_prefix

__all__ = ["CHROMIUM_NAMES", "chromium_command", "find_chromium", "main", "screenshot"]

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "chrome")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)
TIMEOUT_S = 120


def find_chromium() -> str:
    """The path of a Chromium-family browser on PATH, or a one-line UsageError."""
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    raise UsageError(
        f"Received no Chromium on PATH, expected one of {', '.join(CHROMIUM_NAMES)} "
        "(Debian: apt-get install chromium)"
    )


def chromium_command(
    browser: str, html: Path, png: Path, profile: Path, width: int, height: int
) -> list[str]:
    """The Chromium command line that writes `png` from `html` at width x height pixels."""
    return [
        browser,
        *CHROMIUM_FLAGS,
        f"--user-data-dir={profile}",
        f"--screenshot={png}",
        f"--window-size={width},{height}",
        html.absolute().as_uri(),
    ]


def screenshot(html: str | Path, png: str | Path, *, width: int = 1280, height: int = 4000) -> Path:
    """Writes a width x height PNG of the top of `html` as Chromium renders it.

    Raises:
        UsageError: the HTML file is missing or no Chromium is installed.
        OutputError: Chromium failed or wrote no image.
    """
    html, png = Path(html), Path(png).absolute()
    if not html.is_file():
        raise UsageError(f"{html}: no such HTML file, expected a report written by tf2bench report")
    browser = find_chromium()
    png.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=temp_prefix("chromium")) as profile:
        staging = Path(profile) / "shot.png"
        command = chromium_command(browser, html, staging, Path(profile) / "p", width, height)
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise OutputError(f"{png}: Chromium did not finish within {TIMEOUT_S} s") from None
        if done.returncode != 0 or not staging.is_file() or staging.stat().st_size == 0:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise OutputError(
                f"{png}: Chromium wrote no screenshot (exit {done.returncode}: {last})"
            )
        shutil.move(staging, png)
    return png


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tf2bench.report.screenshot", description=__doc__
    )
    parser.add_argument("html", help="the report.html to render")
    parser.add_argument("png", help="the PNG to write")
    parser.add_argument("--width", type=int, default=1280, help="pixels (default 1280)")
    parser.add_argument("--height", type=int, default=4000, help="pixels (default 4000)")
    args = parser.parse_args(argv)
    try:
        written = screenshot(args.html, args.png, width=args.width, height=args.height)
    except Tf2benchError as error:
        sys.stderr.write(f"tf2bench: error: {error}\n")
        return 2
    print(f"wrote {written}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
