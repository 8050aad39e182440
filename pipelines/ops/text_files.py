"""Reading analysts' text files: JSONL, CSV or TSV with a ``text`` column.

``voc tag`` and ``voc eval causes`` read exports from whatever tool the analyst
has: a survey tool's CSV, a ticket system's TSV, a JSONL dump. The format is taken
from the file name (``.jsonl``/``.ndjson``, ``.csv``, ``.tsv``/``.tab``), or from
the first character when the name says nothing. Labels for evaluation are a
``labels`` list (JSONL) or a ``label``/``labels`` column with ids separated by
``|``, ``;`` or ``,`` (CSV/TSV); an empty label means "no cause".

A malformed row is an error naming the file and line, never a silently skipped
row: a skipped row would change the figures without anyone knowing.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["TextFileError", "labels_of", "read_rows"]

_LABEL_SEPARATORS = re.compile(r"[|;,]")
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


class TextFileError(ValueError):
    """A file that cannot be read as texts; the message names file and line."""


def read_rows(path: str | Path) -> Iterator[dict[str, Any]]:
    """Rows of the file, each a dict with at least a string ``text`` and its ``_line``.

    A byte-order mark (Excel's "CSV UTF-8" writes one) is dropped; text that is not
    UTF-8 is an error naming the line it is on.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise TextFileError(f"{path}: {error.strerror or error}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise TextFileError(f"{path}:{line}: not valid UTF-8 ({error.reason})") from None
    handle = io.StringIO(text, newline="")
    kind = _kind(path, text)
    if kind == "jsonl":
        yield from _jsonl_rows(path, handle)
    else:
        yield from _delimited_rows(path, handle, "\t" if kind == "tsv" else ",")


def labels_of(row: dict[str, Any], where: str) -> list[str]:
    """A row's gold labels: ``labels`` (list or separated text) or ``label``."""
    value = row.get("labels", row.get("label"))
    if value is None:
        raise TextFileError(f"{where}: no 'labels' or 'label' field")
    if isinstance(value, list):
        if not all(isinstance(label, str) for label in value):
            raise TextFileError(f"{where}: labels must be strings")
        return [label.strip() for label in value if label.strip()]
    if isinstance(value, str):
        return [label.strip() for label in _LABEL_SEPARATORS.split(value) if label.strip()]
    raise TextFileError(f"{where}: labels must be a list or text, got {type(value).__name__}")


def _kind(path: Path, text: str) -> str:
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if suffix in (".tsv", ".tab"):
        return "tsv"
    if suffix == ".csv":
        return "csv"
    return "jsonl" if text.lstrip()[:1] == "{" else "csv"


def _jsonl_rows(path: Path, handle) -> Iterator[dict[str, Any]]:
    for number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise TextFileError(f"{path}:{number}: not JSON ({error.msg})") from None
        if not isinstance(row, dict):
            raise TextFileError(f"{path}:{number}: each line must be a JSON object")
        _check_text(row, f"{path}:{number}")
        row["_line"] = number
        yield row


def _delimited_rows(path: Path, handle, delimiter: str) -> Iterator[dict[str, Any]]:
    # strict: an unterminated quote is an error, not the rest of the file in one cell
    reader = csv.DictReader(handle, delimiter=delimiter, strict=True)
    try:
        if reader.fieldnames is None or "text" not in reader.fieldnames:
            raise TextFileError(f"{path}:1: the header needs a 'text' column")
        first_line = reader.line_num + 1
        for row in reader:
            if None in row:
                raise TextFileError(f"{path}:{first_line}: more fields than the header names")
            _check_text(row, f"{path}:{first_line}")
            row["_line"] = first_line  # a quoted text may span lines: name where it starts
            yield row
            first_line = reader.line_num + 1
    except csv.Error as error:
        raise TextFileError(f"{path}:{reader.line_num}: {error}") from None


def _check_text(row: dict[str, Any], where: str) -> None:
    if not isinstance(row.get("text"), str):
        raise TextFileError(f"{where}: needs a 'text' string")
