"""What every ``voc`` command shares: the one-line error, exit codes, argument types.

Errors in flags or configuration print one line and exit with code 2, never a
traceback: the people who run this read the line, not the stack.
"""

from __future__ import annotations

import argparse
import os
import sys

from voc.pipelines.arguments import (
    DEFAULT_DUCKDB,
    any_int,
    non_negative_float,
    output_file_problem,
    positive_int,
    whole_number,
)
from voc.pipelines.topology import DEFAULT_PROJECT

__all__ = [
    "DEFAULT_DUCKDB",
    "EXIT_FAILED",
    "EXIT_USAGE",
    "Parser",
    "UsageError",
    "add_actions",
    "add_project_option",
    "any_int",
    "default_project",
    "non_negative_float",
    "positive_int",
    "require_output_file",
    "warn_without_emulator",
    "whole_number",
]

EXIT_USAGE = 2
EXIT_FAILED = 1


class UsageError(Exception):
    """A bad flag, path or config file; printed as one line, exit code 2."""


class Parser(argparse.ArgumentParser):
    """argparse prints usage plus the error; we print one line that names the problem."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # (dest, metavar) of the sub-commands this parser requires; see parse_known_args.
        self._required_commands: list[tuple[str, str]] = []

    def error(self, message: str):
        raise UsageError(f"{self.prog}: {message} (see '{self.prog} --help')")

    def add_commands(self, dest: str, metavar: str):
        """Sub-commands, one of which is required (``voc COMMAND``, ``voc dlq ACTION``).

        argparse checks required arguments before it looks at unknown ones, so
        ``voc --bogus`` would say COMMAND is missing instead of naming ``--bogus``;
        the check is made here, after the unknown flags are known.
        """
        self._required_commands.append((dest, metavar))
        return self.add_subparsers(dest=dest, metavar=metavar, parser_class=Parser)

    def parse_known_args(self, args=None, namespace=None):
        namespace, extras = super().parse_known_args(args, namespace)
        for dest, metavar in self._required_commands:
            if getattr(namespace, dest, None) is None:
                if extras:
                    self.error(f"unrecognized arguments: {' '.join(extras)}")
                self.error(f"the following arguments are required: {metavar}")
        return namespace, extras


def add_actions(commands, name: str, **about: str):
    """A command with actions of its own (``voc dlq list``); one of them is required."""
    command = commands.add_parser(name, **about)
    return command.add_commands("action", "ACTION")


def default_project() -> str:
    return os.environ.get("PUBSUB_PROJECT_ID", DEFAULT_PROJECT)


def add_project_option(parser: argparse.ArgumentParser) -> None:
    """``--project`` of the commands that publish; its default is what the line that
    ``voc emulator start`` prints exports."""
    parser.add_argument(
        "--project",
        default=default_project(),
        help=f"Pub/Sub project to publish to (default: $PUBSUB_PROJECT_ID or {DEFAULT_PROJECT})",
    )


def require_output_file(command: str, flag: str, path: str) -> None:
    """Refuse an output path that cannot be written as a file, before any work starts."""
    problem = output_file_problem(path)
    if problem is not None:
        raise UsageError(f"{command}: {flag} {path}: {problem}")


def warn_without_emulator(command: str, project: str) -> None:
    """Publishing commands say so before they reach a real project by accident."""
    if not os.environ.get("PUBSUB_EMULATOR_HOST"):
        print(
            f"{command}: PUBSUB_EMULATOR_HOST is not set; publishing to real Pub/Sub "
            f"project {project}",
            file=sys.stderr,
        )
