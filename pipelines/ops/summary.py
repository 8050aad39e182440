"""Read results back from the DuckDB file: table counts and the department summary.

Opened read-only, so a summary can be printed next to a stopped job's file
without taking the writer's lock.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import duckdb

from voc import sql
from voc.pipelines.ops.sql_text import Piece, pieces

TABLES = ("surveys", "agent_notes", "feedback_tags", "dead_letters")


def table_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    return {table: con.execute(f"select count(*) from {table}").fetchone()[0] for table in TABLES}


def department_summary(con: duckdb.DuckDBPyConnection) -> tuple[list[str], list[tuple[Any, ...]]]:
    cursor = con.execute(sql.query("department_summary"))
    columns = [d[0] for d in cursor.description]
    return columns, cursor.fetchall()


def cause_evidence(
    con: duckdb.DuckDBPyConnection, limit: int | None = None
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Each cause and sub-cause with its strongest rule and example words."""
    cursor = con.execute(sql.query("cause_evidence"))
    columns = [d[0] for d in cursor.description]
    rows = cursor.fetchall()
    return columns, rows[:limit] if limit is not None else rows


def cause_sentiment(con: duckdb.DuckDBPyConnection) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Each cause with the sentiment of the sentences naming it, most negative first."""
    cursor = con.execute(sql.query("cause_sentiment"))
    return [d[0] for d in cursor.description], cursor.fetchall()


def named_query(
    con: duckdb.DuckDBPyConnection, name: str, limit: int | None = None
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Columns and rows of one of sql/queries/<name>.sql."""
    cursor = con.execute(sql.query(name))
    rows = cursor.fetchall()
    return [d[0] for d in cursor.description], rows[:limit] if limit is not None else rows


ALERTS_SQL = """
select department, cause_id, status, opened_window_start as opened,
       closed_window_start as closed, observed, round(expected, 1) as expected,
       round(score, 1) as score, peak_observed as peak
from alerts order by opened_window_start
"""


def alerts_summary(con: duckdb.DuckDBPyConnection) -> tuple[list[str], list[tuple[Any, ...]]]:
    cursor = con.execute(ALERTS_SQL)
    return [d[0] for d in cursor.description], cursor.fetchall()


DERIVED_COUNTS = {
    "interactions": "select count(*) from interactions",
    "complete": "select count(*) from interactions where complete",
    "rollup rows": "select count(*) from issue_rollups",
    "late events": "select count(*) from late_events",
    "repeat contacts": "select count(*) from repeat_contacts",
    "alerts": "select count(*) from alerts",
}


def derived_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    return {name: con.execute(query).fetchone()[0] for name, query in DERIVED_COUNTS.items()}


def format_table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain aligned text table: numbers right-aligned, text left-aligned."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    numeric = [
        all(isinstance(row[i], int | float) or row[i] is None for row in rows) and rows
        for i in range(len(columns))
    ]

    def line(values: Sequence[str]) -> str:
        pairs = enumerate(zip(values, widths, strict=True))
        return "  ".join(v.rjust(w) if numeric[i] else v.ljust(w) for i, (v, w) in pairs).rstrip()

    out = [line(columns), line(["-" * w for w in widths])]
    out.extend(line(r) for r in cells)
    return "\n".join(out)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".") if value % 1 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def scoped(query: str, department: str | None, since: datetime | None) -> tuple[str, list[Any]]:
    """A report query over only one department's tags, or only tags since a time.

    The report queries read ``feedback_tags``; a CTE of the same name, put first,
    shadows the table for the whole query (its own body names ``main.feedback_tags``),
    so each query keeps one text for the filtered and the whole view.
    """
    conditions, params = [], []
    if department is not None:
        conditions.append("department = ?")
        params.append(department)
    if since is not None:
        conditions.append("event_time >= ?")
        params.append(since)
    if not conditions:
        return query, []
    cte = f"feedback_tags as (select * from main.feedback_tags where {' and '.join(conditions)})"
    parts = list(pieces(query))
    for index, part in enumerate(parts):
        if part.kind == "comment" or not part.text.strip():
            continue
        head = part.text.lstrip()
        if part.kind == "code" and head[:4].lower() == "with" and not head[4:5].isalnum():
            start = len(part.text) - len(head)
            parts[index] = Piece("code", f"{part.text[:start]}with {cte},{head[4:]}")
            return "".join(p.text for p in parts), params
        break
    return f"with {cte}\n{query}", params
