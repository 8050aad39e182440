"""Cut a migration into the transactions DuckDB 1.5 can commit.

DuckDB 1.5 refuses to commit a transaction that alters the same table twice once
the table holds rows ("Attempting to modify table ... but another transaction has
altered this table"); 2.0 commits it. A migration that adds two columns to a
populated table, as most of ours do, would stop every upgrade of a real file. So
each ``alter table`` is its own step (its own transaction), and the statements
between alters are one step. Written so that re-running a half-applied migration
after a crash is harmless: ``add column if not exists``, ``create table if not
exists``, and backfills that set the same values again.

Statements are split at a ``;`` that ends a line, after dropping comment lines:
the convention every file in sql/migrations follows (a test checks it).
"""

from __future__ import annotations

import re

_COMMENT_LINE = re.compile(r"^\s*--.*$", re.MULTILINE)
_STATEMENT_END = re.compile(r";[ \t]*$", re.MULTILINE)
_ALTER = re.compile(r"^alter\s+table\b", re.IGNORECASE)


def statements(migration_sql: str) -> list[str]:
    """The migration's statements, without comment lines or the closing ``;``."""
    text = _COMMENT_LINE.sub("", migration_sql)
    return [part.strip() for part in _STATEMENT_END.split(text) if part.strip()]


def migration_steps(migration_sql: str) -> list[str]:
    """The migration's statements grouped into transactions: every alter alone."""
    steps: list[list[str]] = []
    for statement in statements(migration_sql):
        if _ALTER.match(statement) or not steps or _ALTER.match(steps[-1][-1]):
            steps.append([statement])
        else:
            steps[-1].append(statement)
    return [";\n".join(step) + ";" for step in steps]
