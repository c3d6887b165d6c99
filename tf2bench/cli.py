"""The `tf2bench` command line: report | compare | profile | env | summaries."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from tf2bench import __version__
from tf2bench.errors import Tf2benchError

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
)

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, no usage dump
        sys.stderr.write(f"tf2bench: error: {message}\n")
        sys.exit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="tf2bench", description=__doc__)
    parser.add_argument("--version", action="version", version=f"tf2bench {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for module in COMMAND_MODULES:
        importlib.import_module(module).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except Tf2benchError as error:
        sys.stderr.write(f"tf2bench: error: {error}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
