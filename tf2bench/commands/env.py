"""`tf2bench env`: print the environment fingerprint that every run records."""

from __future__ import annotations

import argparse
import json


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("env", help="print the environment fingerprint as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tf2bench.harness.environment import fingerprint

    print(json.dumps(fingerprint(), indent=2, sort_keys=True))
    return 0
