"""What every ``voc`` command shares: the one-line error, exit codes, argument types.

Errors in flags or configuration print one line and exit with code 2, never a
traceback: the people who run this read the line, not the stack.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from voc.pipelines.arguments import DEFAULT_DUCKDB, non_negative_float, positive_int
from voc.pipelines.topology import DEFAULT_PROJECT

__all__ = [
    "DEFAULT_DUCKDB",
    "EXIT_FAILED",
    "EXIT_USAGE",
    "Parser",
    "UsageError",
    "add_actions",
    "default_project",
    "non_negative_float",
    "positive_int",
    "require_existing_parent",
    "warn_without_emulator",
]

EXIT_USAGE = 2
EXIT_FAILED = 1


class UsageError(Exception):
    """A bad flag, path or config file; printed as one line, exit code 2."""


class Parser(argparse.ArgumentParser):
    """argparse prints usage plus the error; we print one line that names the problem."""

    def error(self, message: str):
        raise UsageError(f"{self.prog}: {message} (see '{self.prog} --help')")


def add_actions(commands, name: str, **about: str):
    """A command with actions of its own (``voc dlq list``); one of them is required."""
    command = commands.add_parser(name, **about)
    actions = command.add_subparsers(dest="action", metavar="ACTION", parser_class=Parser)
    actions.required = True
    return actions


def default_project() -> str:
    return os.environ.get("PUBSUB_PROJECT_ID", DEFAULT_PROJECT)


def require_existing_parent(path: str, flag: str) -> None:
    parent = Path(path).parent
    if not parent.is_dir():
        raise UsageError(f"voc: {flag} {path}: directory {parent} does not exist")


def warn_without_emulator(command: str, project: str) -> None:
    """Publishing commands say so before they reach a real project by accident."""
    if not os.environ.get("PUBSUB_EMULATOR_HOST"):
        print(
            f"{command}: PUBSUB_EMULATOR_HOST is not set; publishing to real Pub/Sub "
            f"project {project}",
            file=sys.stderr,
        )
