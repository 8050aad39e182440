"""Argument types and defaults shared by the job's options and the ``voc`` commands.

Kept free of Beam: the CLI imports it while building its parser, and Beam
logs import-time notices that must not reach a user who only mistyped a flag.
"""

from __future__ import annotations

import argparse

# The DuckDB file every command reads or writes unless told otherwise.
DEFAULT_DUCKDB = "voc.duckdb"


def positive_int(text: str) -> int:
    """argparse type: a whole number above zero, with a message that says so."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, got {text}")
    return value


def non_negative_float(text: str) -> float:
    """argparse type: seconds and the like, zero allowed."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be zero or more, got {text}")
    return value
