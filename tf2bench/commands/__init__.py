"""The `tf2bench` subcommands, one module each; each module defines `register(subparsers)`."""
