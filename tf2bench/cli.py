"""The `tf2bench` command line: report | compare | profile | env | summaries."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from collections.abc import Sequence

from tf2bench import __version__
from tf2bench.errors import Tf2benchError
from tf2bench.interrupts import Terminated, sigterm_as_interrupt

__all__ = ["main"]

# Each module registers its subcommand; none imports TensorFlow at import time.
COMMAND_MODULES = (
    "tf2bench.commands.env",
    "tf2bench.commands.profile",
    "tf2bench.commands.summaries",
    "tf2bench.commands.report",
    "tf2bench.commands.compare",
    "tf2bench.commands.run",
    "tf2bench.commands.ab",
    "tf2bench.commands.matrix",
)

EXIT_USAGE = 2  # bad input or any failure; 1 is kept for "regression found" (compare)
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports it
EXIT_TERMINATED = 143  # 128 + SIGTERM
DEBUG_ENV = "TF2BENCH_DEBUG"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, no usage dump
        sys.stderr.write(f"tf2bench: error: {message}\n")
        sys.exit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="tf2bench", description=__doc__)
    parser.add_argument("--version", action="version", version=f"tf2bench {__version__}")
    parser.add_argument(
        "--debug",
        action="store_true",
        help=f"show the traceback of an unexpected error (also {DEBUG_ENV}=1)",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for module in COMMAND_MODULES:
        importlib.import_module(module).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Runs one subcommand; exit 0 ok, 1 regression (compare), 2 any error, 130/143 stopped."""
    sigterm_as_interrupt()
    debug = os.environ.get(DEBUG_ENV, "") not in ("", "0")
    try:
        args = build_parser().parse_args(argv)
        debug = debug or args.debug
        return int(args.func(args) or 0)
    except Tf2benchError as error:
        sys.stderr.write(f"tf2bench: error: {error}\n")
        return EXIT_USAGE
    except Terminated:
        sys.stderr.write("tf2bench: stopped by SIGTERM\n")
        return EXIT_TERMINATED
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except Exception as error:  # noqa: BLE001 - never a traceback, never exit 1 by accident
        if debug:
            traceback.print_exc()
        where = "" if debug else f"; rerun with --debug or {DEBUG_ENV}=1 for the traceback"
        sys.stderr.write(f"tf2bench: internal error: {_one_line(error)}{where}\n")
        return EXIT_USAGE


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    if len(text) > 300:
        text = text[:297] + "..."
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


if __name__ == "__main__":
    sys.exit(main())
