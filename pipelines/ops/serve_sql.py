"""The job's side of live SQL: serve its DuckDB file over Quack, read-only for owners.

DuckDB lets one process open a file read-write, and while it does, no other
process may open it at all. So the job, which owns the file, also answers the
owners' queries: it runs DuckDB's own client-server protocol, Quack, on its
connection, on localhost, admitting clients that present a random token (written
to the ``.live`` file beside the database, readable only by the job's user; see
:mod:`voc.pipelines.ops.live_job`).

A Quack server accepts any SQL from a client holding the token, writes
included. Three restrictions, measured by tests/pipelines/test_live_sql.py:

1. An authorization macro, called by Quack before every query, admits only a
   SELECT-like statement (``json_serialize_sql`` refuses every other kind:
   insert, update, delete, copy, attach, set, call, pragma, create, ...), and no
   built-in table function except a few that read nothing outside the database
   (``range``, ``unnest``, the catalog functions a client's ``ATTACH`` needs), nor
   the scalar functions that change state (``nextval``, ``setseed``).
   The forbidden names are computed once, here, into a literal list: the macro
   costs ~1 ms a query, where joining ``duckdb_functions()`` in every call cost
   30-100 ms.
2. ``enable_external_access = false`` after the server starts: a SELECT cannot
   read a file or URL through a replacement scan (``from '/etc/passwd.csv'``).
3. ``lock_configuration = true``: no later statement can change a setting,
   the authorization hook included.

The job's own writes (Arrow batches registered on its connection, transactions,
checkpoints) are unaffected by 2 and 3. What a client can still do: read every
table (dead_letters' raw payloads included), and run expensive queries that take
CPU from the job. docs/live-sql.md says so.
"""

from __future__ import annotations

import secrets
import socket
import time
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass
from typing import TextIO

import duckdb

from voc.pipelines.ops.live_job import announce, live_file, withdraw
from voc.transforms.error_text import first_line
from voc.transforms.sinks.duckdb_extensions import ExtensionMissing, load_extensions
from voc.transforms.sinks.duckdb_store import DuckDBStore, shared_store

# The macro lives in an in-memory database attached to the job's: Quack finds it there
# (a temporary macro is not seen by its connections), and the file gets no write, so a
# full disk cannot stop the server from starting and a killed job leaves nothing behind.
SERVER_CATALOG = "voc_serve"
AUTHORIZATION_MACRO = f"{SERVER_CATALOG}.main.voc_read_only"
HOST = "localhost"

# Built-in table functions a read-only client may call: they read nothing but their
# arguments or the catalog. duckdb_tables/views/schemas and range are what a DuckDB
# client's ATTACH sends; the rest are what owners use to explore and unpack.
ALLOWED_TABLE_FUNCTIONS = frozenset(
    {
        "range",
        "generate_series",
        "unnest",
        "json_each",
        "json_tree",
        "duckdb_tables",
        "duckdb_views",
        "duckdb_columns",
        "duckdb_schemas",
        "duckdb_databases",
        "duckdb_constraints",
        "duckdb_indexes",
        "duckdb_types",
        "duckdb_functions",
        "duckdb_keywords",
        "pragma_table_info",
    }
)

# Scalar functions that change state: a sequence, the connection's random seed.
FORBIDDEN_SCALAR_FUNCTIONS = frozenset({"nextval", "setseed"})

# Quack needs at least this many characters; secrets.token_urlsafe(32) gives 43.
TOKEN_BYTES = 32
# A free port is found by binding port 0, then released for Quack to bind: another
# process may take it in between, so a port of our choosing is tried this often.
PORT_ATTEMPTS = 5


class ServeError(RuntimeError):
    """The SQL server could not start; one line."""


@dataclass(frozen=True)
class SqlServer:
    """A running Quack server on the job's connection."""

    uri: str  # quack:localhost:PORT
    token: str
    port: int


def sql_literal_list(names: Iterable[str]) -> str:
    """A DuckDB list literal of strings, sorted, quotes doubled."""
    quoted = ", ".join("'" + name.replace("'", "''") + "'" for name in sorted(set(names)))
    return f"[{quoted}]"


def read_only_macro(forbidden: Iterable[str], name: str = AUTHORIZATION_MACRO) -> str:
    """The statement that creates the authorization macro.

    Quack calls it as ``name(connection_id, query)`` before each query and runs the
    query only if it returns true. ``json_serialize_sql`` parses the text with
    DuckDB's own parser, so ``with x as (...) insert ...`` and ``select 1; delete
    ...`` are refused where a prefix check would admit them; a text that is not a
    SELECT-like statement serializes to ``{"error": true, ...}``. Every function the
    query names appears in the tree as ``"function_name":"..."`` (a string literal's
    quotes are escaped there, so text inside a literal cannot pose as one).
    """
    return f"""create or replace macro {name}(connection_id, query) as (
    with parsed as (
        select json_serialize_sql(query::varchar)::varchar as tree
    ),

    named as (
        select
            coalesce(not (tree::json ->> 'error')::boolean, false) as is_select,
            list_transform(
                regexp_extract_all(tree, '"function_name":"([^"]*)"', 1), f -> lower(f)
            ) as functions
        from parsed
    )

    select is_select and not list_has_any(functions, {sql_literal_list(forbidden)})
    from named
)"""


def forbidden_table_functions(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every built-in table function and table macro not in the allowed set, and the
    scalar functions that change state."""
    rows = con.execute(
        "select distinct lower(function_name) from duckdb_functions() "
        "where function_type in ('table', 'table_macro') and internal"
    ).fetchall()
    return sorted(({row[0] for row in rows} - ALLOWED_TABLE_FUNCTIONS) | FORBIDDEN_SCALAR_FUNCTIONS)


def free_port(host: str = HOST) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def serve(store: DuckDBStore, port: int = 0, host: str = HOST) -> SqlServer:
    """Start the read-only SQL server on the job's connection (port 0: a free one)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)

    def start(cur) -> SqlServer:
        load_extensions(cur, "httpfs", "quack")
        cur.execute(f"attach if not exists ':memory:' as {SERVER_CATALOG}")
        cur.execute(read_only_macro(forbidden_table_functions(cur)))
        cur.execute(f"set global quack_authorization_function = '{AUTHORIZATION_MACRO}'")
        tries = PORT_ATTEMPTS if port == 0 else 1
        for attempt in range(tries):
            chosen = port or free_port(host)
            uri = f"quack:{host}:{chosen}"
            try:
                cur.execute("call quack_serve(?, token = ?)", [uri, token]).fetchall()
                return SqlServer(uri, token, chosen)
            except duckdb.Error as error:
                if attempt + 1 == tries:
                    raise ServeError(f"cannot serve SQL on {uri}: {first_line(error)}") from None
                time.sleep(0.05)
        raise AssertionError("unreachable")

    server = store.in_transaction(start)
    store.in_transaction(_restrict)
    return server


def _restrict(cur) -> None:
    """No file or URL reads by any statement, and no setting changed from now on."""
    cur.execute("set global enable_external_access = false")
    cur.execute("set global lock_configuration = true")


def stop(store: DuckDBStore, server: SqlServer) -> None:
    """Stop serving, so closing the connection releases the file (best effort)."""
    with suppress(duckdb.Error):
        store.in_transaction(
            lambda cur: cur.execute("select * from quack_stop(?)", [server.uri]).fetchall()
        )


def go_live(
    database: str, serve_sql: bool, port: int = 0, out: TextIO | None = None
) -> Callable[[], None]:
    """Serve ``database`` (if ``serve_sql``) on this process's store and announce the
    job in its ``.live`` file; returns the function that withdraws both, for a
    ``finally`` that runs before the store is closed.

    A server that cannot start is a ``ConfigError`` (one line, exit 2): the job
    could run with ``--no-serve``, but not silently without what was asked.
    """
    from voc.pipelines.options import ConfigError

    store = shared_store(database)
    server = None
    if serve_sql:
        try:
            server = serve(store, port)
        except (ServeError, ExtensionMissing, duckdb.Error) as error:
            flag = f"--serve-port {port}" if port else "--serve"
            raise ConfigError(f"{flag}: {first_line(error)} (--no-serve runs without it)") from None
    announce(database, server.uri if server else None, server.token if server else None)
    if server is not None and out is not None:
        print(
            f"voc run: serving read-only SQL on {server.uri} (token in {database}.live); "
            f"query with: voc sql --duckdb {database}",
            file=out,
            flush=True,
        )

    def withdraw_live() -> None:
        try:
            withdraw(database)  # first: no new owner is sent to a server about to stop
        finally:
            if server is not None:
                stop(store, server)

    return withdraw_live


def duckdb_cli_commands(database: str, uri: str) -> list[str]:
    """The statements that connect the DuckDB CLI (the same version) to the job.

    The token is read from the ``.live`` file by DuckDB itself, so it is never
    typed, printed or kept in a shell history.
    """
    from voc.transforms.sinks.duckdb_extensions import extension_file

    loads = [
        f"LOAD '{path}';" if (path := extension_file(name)) else f"LOAD {name};"
        for name in ("httpfs", "quack")
    ]
    live = str(live_file(database)).replace("'", "''")
    return [
        *loads,
        f"SET VARIABLE voc_live = (SELECT json FROM read_json_objects('{live}'));",
        "CREATE SECRET voc_live (TYPE quack, TOKEN getvariable('voc_live')->>'token');",
        f"ATTACH '{uri}' AS live;",
        f"FROM quack_query('{uri}', 'select count(*) from surveys');",
    ]
