"""How every owner command reads the database: through the running job, or the file.

While ``voc run`` writes a DuckDB file no other process can open it, not even
read-only. So an owner command first looks for a running job on the file
(:func:`voc.pipelines.ops.live_job.running_job`): if there is one and it serves
SQL, each query is sent whole to the job over Quack (``quack_query``) and runs
there, next to the data, on the job's read-only terms (see
:mod:`voc.pipelines.ops.serve_sql`); only the result travels. With no job, the
file is opened with ``read_only=True``. Either way the connection cannot change
the database, and ``query(sql, params)`` behaves the same.

``?`` parameters: Quack sends text only, so in live mode the values are written
into the query as SQL literals (:func:`voc.pipelines.ops.sql_text.bind`); in
file mode DuckDB binds them itself.

A DuckLake (``VOC_STORE='ducklake:postgres:dbname=... host=...'``, or that string as
``--duckdb``) has no job to go through: many processes write it, and any reader may
attach it. The owner connection attaches it read-only in an in-memory DuckDB and
reads every table through a view that keeps one row per key, under the table's own
name, with the same views and department schemas as a file (docs/ducklake.md).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from voc.pipelines.ops.live_job import LiveJob, running_job
from voc.pipelines.ops.sql_text import bind
from voc.transforms.error_text import first_line
from voc.transforms.sinks.duckdb_extensions import ExtensionMissing, load_extensions
from voc.transforms.sinks.ducklake_catalog import is_lake
from voc.transforms.sinks.retry_sink import transient_reason

# What Quack says when the job's authorization macro refuses a statement.
REFUSED = "Authorization failed"
READ_ONLY_RULE = (
    "owner connections are read-only: one SELECT-like statement (select, with, from, "
    "describe, show, summarize), no table functions but range, unnest, json_each and "
    "the duckdb_* catalog"
)


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[tuple]


class OwnerConnectionError(Exception):
    """The database cannot be reached, or a query failed; one line (the CLI: exit 2)."""


class ReadOnlyRefused(OwnerConnectionError):
    """A statement that would write, or read outside the database, was refused."""


class OwnerConnection:
    """A read-only connection for owners: ``live`` through the running job, else the file.

    A context manager; ``query`` returns whole results. ``execute`` is the DB-API
    shaped form (``.fetchall()``, ``.fetchone()``, ``.description``) for the
    report functions written against a DuckDB connection.
    """

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        live: bool,
        source: str,
        job: LiveJob | None = None,
    ) -> None:
        self._con = con
        self.live = live
        self.source = source
        self._job = job

    def query(self, sql: str, params: Sequence[object] = ()) -> QueryResult:
        """Run one statement; ``OwnerConnectionError`` (one line) if it fails."""
        try:
            if self._job is None:
                cursor = self._con.execute(sql, list(params) if params else None)
            else:
                cursor = self._con.execute(
                    "select * from quack_query(?, ?, token := ?)",
                    [self._job.quack_uri, _bound(sql, params), self._job.token],
                )
            columns = [d[0] for d in cursor.description] if cursor.description else []
            return QueryResult(columns, cursor.fetchall() if columns else [])
        except duckdb.Error as error:
            raise self._error(error) from None

    def execute(self, sql: str, params: Sequence[object] | None = None) -> _Result:
        result = self.query(sql, params or ())
        return _Result(result)

    def _error(self, error: duckdb.Error) -> OwnerConnectionError:
        if self._job is not None:
            return _live_error(error, self._job)
        if "read-only mode" in str(error):
            what = "lake" if self.source.startswith("lake ") else "file"
            return ReadOnlyRefused(f"the {what} is open read-only for owners ({first_line(error)})")
        return OwnerConnectionError(first_line(error))

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> OwnerConnection:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class _Result:
    """A finished query in the shape of a DuckDB cursor, for code written against one."""

    def __init__(self, result: QueryResult) -> None:
        self.description = [(name, None, None, None, None, None, None) for name in result.columns]
        self._rows = result.rows

    def fetchall(self) -> list[tuple]:
        return list(self._rows)

    def fetchone(self) -> tuple | None:
        return self._rows[0] if self._rows else None


# The one setting that points every owner read (voc sql, summary, digests, the
# recovery queue, dlq list) at a store: a DuckLake ('ducklake:postgres:dbname=...')
# or a DuckDB file. Unset: the command's --duckdb file.
STORE_ENV = "VOC_STORE"


def owner_store(database: str | os.PathLike) -> str:
    """Which store an owner command reads: ``VOC_STORE`` if set, else ``database``."""
    return os.environ.get(STORE_ENV, "").strip() or str(database)


def open_for_owner(database: str | os.PathLike) -> OwnerConnection:
    """A read-only connection to ``database`` (or to the store ``VOC_STORE`` names):
    a lake through its deduplicating views, a file through its running job if there
    is one, else the file itself; ``OwnerConnectionError`` says in one line why none."""
    database = owner_store(database)
    if is_lake(database):
        return _open_lake(database)
    job = running_job(database)
    if job is not None:
        if not job.serves_sql:
            raise OwnerConnectionError(
                f"{database}: a job (pid {job.pid}) is writing it without serving SQL "
                "(--no-serve), so the file is locked; restart it with --serve or stop it"
            )
        return _open_live(job)
    path = Path(database)
    if not path.is_file():
        raise OwnerConnectionError(f"{database}: no such file")
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as error:
        why = transient_reason(error) or first_line(error)
        if "locked" in why:  # a writer that announced no job: older voc, reconcile, a tool
            why += "; stop the job first, or run it with --serve so owners can read meanwhile"
        raise OwnerConnectionError(f"{database}: {why}") from None
    _in_utc(con)
    return OwnerConnection(con, live=False, source=f"file {database} (read-only)")


def _open_lake(store: str) -> OwnerConnection:
    """The lake attached read-only in an in-memory DuckDB, each table a view that keeps
    one row per key, and the file's views and department schemas over them
    (:mod:`voc.transforms.sinks.ducklake_views`)."""
    from voc.transforms.sinks.ducklake_catalog import LakeSpecError, parse_catalog
    from voc.transforms.sinks.ducklake_views import owner_lake_connection

    try:
        spec = parse_catalog(store)
    except LakeSpecError as error:
        raise OwnerConnectionError(f"{STORE_ENV}: {error}") from None
    try:
        con = owner_lake_connection(spec)
    except (duckdb.Error, ExtensionMissing) as error:
        raise OwnerConnectionError(f"{spec.describe()}: {first_line(error)}") from None
    return OwnerConnection(con, live=False, source=f"lake {spec.describe()} (read-only)")


def _open_live(job: LiveJob) -> OwnerConnection:
    con = duckdb.connect()
    _in_utc(con)
    try:
        load_extensions(con, "httpfs", "quack")
    except ExtensionMissing as error:
        con.close()
        raise OwnerConnectionError(str(error)) from None
    owner = OwnerConnection(
        con, live=True, source=f"live job pid {job.pid} ({job.quack_uri})", job=job
    )
    try:
        owner.query("select 1")
    except OwnerConnectionError:
        owner.close()
        raise
    return owner


def _bound(sql: str, params: Sequence[object]) -> str:
    """The query with its ``?`` parameters written in: Quack sends text only."""
    try:
        return bind(sql, params)
    except (TypeError, ValueError) as error:
        raise OwnerConnectionError(str(error)) from None


def _in_utc(con: duckdb.DuckDBPyConnection) -> None:
    """Times come back in UTC, as every time in voc is, whatever the owner's machine uses."""
    con.execute("set TimeZone = 'UTC'")


def _live_error(error: duckdb.Error, job: LiveJob) -> OwnerConnectionError:
    """One line for a failed live query, without the ``quack_query(...)`` wrapper's text."""
    text = first_line(error)
    if REFUSED in text:
        return ReadOnlyRefused(READ_ONLY_RULE)
    if "Authentication failed" in text:
        return OwnerConnectionError(
            f"the job (pid {job.pid}) at {job.quack_uri} refused the token in its .live file "
            "(was the job restarted? try again)"
        )
    if "Could not connect" in str(error) or "Failed to send" in text:
        return OwnerConnectionError(
            f"the job (pid {job.pid}) is running but its SQL server at {job.quack_uri} "
            f"does not answer: {text}"
        )
    return OwnerConnectionError(text)
