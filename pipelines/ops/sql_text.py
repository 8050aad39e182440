"""SQL text, read the way DuckDB's parser reads it: statements, ``?`` placeholders, literals.

Quack's ``quack_query(uri, sql)`` sends text only: a query with ``?`` parameters
has to arrive with its values written in as SQL literals. That is safe only if a
``?`` inside a string, a quoted name or a comment is left alone and every value
becomes exactly one literal of its own type, which is what this module does.
The same scanner splits a script or an interactive session into statements (a
``;`` inside a string ends nothing).

Pure functions, no DuckDB: tested with hypothesis against DuckDB itself
(tests/pipelines/ops/test_sql_text.py).
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

_DOLLAR_TAG = re.compile(r"\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$")
_WORD_CHAR = re.compile(r"[A-Za-z0-9_$]")


@dataclass(frozen=True)
class Piece:
    """A run of SQL text: ``code``, ``string``, ``name`` (a quoted identifier),
    ``comment``, ``placeholder`` (a ``?``) or ``end`` (a ``;``). ``closed`` is False
    for a string, name or comment the text ends inside."""

    kind: str
    text: str
    closed: bool = True


def pieces(sql: str) -> Iterator[Piece]:
    """Scan ``sql`` into pieces; concatenating their text gives ``sql`` back."""
    i, n, code_start = 0, len(sql), 0

    def code_until(j: int) -> Iterator[Piece]:
        if j > code_start:
            yield Piece("code", sql[code_start:j])

    while i < n:
        c = sql[i]
        end, kind = None, None
        if c == "'":
            escapes = i > 0 and sql[i - 1] in "eE" and (i < 2 or not _WORD_CHAR.match(sql[i - 2]))
            end, kind = _quoted_end(sql, i, "'", backslash=escapes), "string"
            if escapes:  # the E belongs to the string
                i -= 1
        elif c == '"':
            end, kind = _quoted_end(sql, i, '"', backslash=False), "name"
        elif sql.startswith("--", i):
            newline = sql.find("\n", i)
            end, kind = (n if newline < 0 else newline + 1), "comment"
        elif sql.startswith("/*", i):
            end, kind = _block_comment_end(sql, i), "comment"
        elif c == "$" and (i == 0 or not _WORD_CHAR.match(sql[i - 1])):
            tag = _DOLLAR_TAG.match(sql, i)
            if tag:
                close = sql.find(tag.group(), tag.end())
                end = n + 1 if close < 0 else close + len(tag.group())
                kind = "string"
        elif c in "?;":
            yield from code_until(i)
            yield Piece("placeholder" if c == "?" else "end", c)
            i += 1
            code_start = i
            continue
        if kind is None:
            i += 1
            continue
        yield from code_until(i)
        closed = end <= n
        end = min(end, n)
        yield Piece(kind, sql[i:end], closed)
        i = code_start = end
    yield from code_until(n)


def _quoted_end(sql: str, start: int, quote: str, backslash: bool) -> int:
    """Index after the closing quote (a doubled quote is one character); len+1 if none."""
    i, n = start + 1, len(sql)
    while i < n:
        c = sql[i]
        if backslash and c == "\\":
            i += 2
            continue
        if c == quote:
            if i + 1 < n and sql[i + 1] == quote:
                i += 2
                continue
            return i + 1
        i += 1
    return n + 1


def _block_comment_end(sql: str, start: int) -> int:
    """Index after the ``*/`` closing the comment at ``start`` (they nest); len+1 if none."""
    depth, i, n = 0, start, len(sql)
    while i < n:
        if sql.startswith("/*", i):
            depth += 1
            i += 2
        elif sql.startswith("*/", i):
            depth -= 1
            i += 2
            if depth == 0:
                return i
        else:
            i += 1
    return n + 1


def split_statements(sql: str) -> tuple[list[str], str]:
    """Complete statements (each ended by ``;``, without it) and what follows the last.

    Statements holding only whitespace and comments are dropped. The rest is the
    start of a statement still being typed (or a script's last one, unterminated).
    """
    statements: list[str] = []
    current: list[Piece] = []
    for piece in pieces(sql):
        if piece.kind == "end":
            if _has_code(current):
                statements.append("".join(p.text for p in current).strip())
            current = []
        else:
            current.append(piece)
    rest = "".join(p.text for p in current)
    return statements, rest if _has_code(current) or not _closed(current) else ""


def script_statements(sql: str) -> list[str]:
    """Every statement of a script, the last one with or without its ``;``."""
    statements, rest = split_statements(sql)
    return statements + ([rest.strip()] if rest.strip() else [])


def _has_code(run: list[Piece]) -> bool:
    return any(p.kind != "comment" and p.text.strip() for p in run)


def _closed(run: list[Piece]) -> bool:
    return all(p.closed for p in run)


def placeholders(sql: str) -> int:
    """How many ``?`` parameters the text has (outside strings, names and comments)."""
    return sum(1 for p in pieces(sql) if p.kind == "placeholder")


def bind(sql: str, params: Sequence[object]) -> str:
    """``sql`` with each ``?`` replaced by the next parameter as a SQL literal."""
    params = list(params)
    wanted = placeholders(sql)
    if wanted != len(params):
        raise ValueError(f"the query has {wanted} ? parameters but {len(params)} values were given")
    values = iter(params)
    return "".join(
        literal(next(values)) if piece.kind == "placeholder" else piece.text
        for piece in pieces(sql)
    )


def literal(value: object) -> str:
    """One DuckDB literal of ``value``'s type; ``TypeError`` for a type it cannot write.

    None -> null; bool; int; float (nan, inf too); Decimal; str (quotes doubled:
    standard strings take no backslash escapes); bytes -> blob; date, datetime
    (timestamptz if it has a zone), time, timedelta -> interval; UUID; a list or
    tuple -> a list; a dict with string keys -> a struct.
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return _signed(str(value))
    if isinstance(value, float):
        if math.isnan(value):
            return "'nan'::double"
        if math.isinf(value):
            return "'inf'::double" if value > 0 else "'-inf'::double"
        return _signed(f"{value!r}::double")
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise TypeError(f"cannot write {value} as a SQL decimal")
        return _signed(f"{value:f}")
    if isinstance(value, str):
        if "\x00" in value:
            raise TypeError("a string parameter holds a NUL character")
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, bytes | bytearray | memoryview):
        return "'" + "".join(f"\\x{b:02X}" for b in bytes(value)) + "'::blob"
    if isinstance(value, datetime):  # before date: a datetime is a date
        if value.tzinfo is None:
            return f"'{value.isoformat()}'::timestamp"
        return f"'{value.astimezone(UTC).isoformat()}'::timestamptz"
    if isinstance(value, date):
        return f"'{value.isoformat()}'::date"
    if isinstance(value, time):
        if value.tzinfo is not None:
            raise TypeError("a time of day with a time zone has no DuckDB literal here")
        return f"'{value.isoformat()}'::time"
    if isinstance(value, timedelta):
        micros = (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds
        return f"to_microseconds({micros})"
    if isinstance(value, uuid.UUID):
        return f"'{value}'::uuid"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if isinstance(value, Mapping):
        if not all(isinstance(k, str) for k in value):
            raise TypeError("a struct parameter needs string keys")
        fields = ", ".join(f"{literal(k)}: {literal(v)}" for k, v in value.items())
        return "{" + fields + "}"
    raise TypeError(f"cannot write a {type(value).__name__} as a SQL literal")


def _signed(number: str) -> str:
    """A negative number in parentheses: ``x-?`` with -1 must not become ``x--1``,
    which DuckDB reads as ``x`` and a comment."""
    return f"({number})" if number.startswith("-") else number
