"""How an error reads to a person: one line.

DuckDB, gRPC and Beam errors run to several lines (hints, stacks, request
dumps). Operators read the CLI's one-line errors and the sink's retry log;
both show the first line only, cut where a log line would wrap badly.
"""

from __future__ import annotations


def first_line(error: BaseException, limit: int | None = None) -> str:
    """The line of an error a person reads (DuckDB and gRPC errors run to several)."""
    text = str(error).strip()
    line = text.splitlines()[0] if text else type(error).__name__
    return line[:limit] if limit else line
