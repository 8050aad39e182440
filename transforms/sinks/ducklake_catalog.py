"""Where a DuckLake is, and how a DuckDB connection attaches it.

A lake is its **catalog** (the metadata: tables, snapshots, which Parquet files
hold which rows) and its **data path** (the Parquet files). voc uses a PostgreSQL
catalog, the one DuckLake catalog that many writer processes can share (a DuckDB
file allows one process; SQLite has had corruption reports with two writers):

    postgres:dbname=voc host=10.0.0.5 user=voc          # the --catalog value
    ducklake:postgres:dbname=voc host=10.0.0.5          # the same, as VOC_STORE

The data path is a local directory, or ``gs://bucket/prefix`` / ``s3://...``, which
DuckDB reaches through httpfs with credentials from a DuckDB secret (``CREATE
SECRET`` in the connection, or the environment's defaults); only local paths are
tested here. It is given when the lake is created and stored in the catalog, so
readers attach with the catalog alone.

Every connection loads DuckLake and the PostgreSQL scanner from the wheels voc
pins (:mod:`voc.transforms.sinks.duckdb_extensions`): nothing is downloaded.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from voc.transforms.sinks.duckdb_extensions import load_extensions

PREFIX = "ducklake:"
POSTGRES = "postgres:"
REMOTE_SCHEMES = ("gs://", "gcs://", "s3://", "r2://", "az://", "abfss://", "http://", "https://")
# The name the lake is attached under in every voc connection.
ALIAS = "lake"


class LakeSpecError(ValueError):
    """A catalog or data path voc cannot use; the message is one line."""


@dataclass(frozen=True)
class LakeSpec:
    """A lake: its PostgreSQL catalog (``postgres:...``), and the data path if known."""

    catalog: str
    data_path: str | None = None

    @property
    def uri(self) -> str:
        return f"{PREFIX}{self.catalog}"

    @property
    def remote(self) -> bool:
        return bool(self.data_path) and self.data_path.startswith(REMOTE_SCHEMES)

    def describe(self) -> str:
        """The catalog without secrets (a ``password=`` is never printed)."""
        parts = [p for p in self.catalog.split() if not p.lower().startswith("password=")]
        return PREFIX + " ".join(parts)


def parse_catalog(text: str, data_path: str | None = None) -> LakeSpec:
    """A LakeSpec from ``postgres:...`` or ``ducklake:postgres:...``; LakeSpecError says
    in one line what is wrong."""
    catalog = (text or "").strip()
    if catalog.startswith(PREFIX):
        catalog = catalog[len(PREFIX) :]
    if not catalog.startswith(POSTGRES):
        raise LakeSpecError(
            f"catalog {text!r}: expected 'postgres:dbname=... host=...' (PostgreSQL is the "
            "DuckLake catalog that many writers can share)"
        )
    if "dbname=" not in catalog:
        raise LakeSpecError(f"catalog {text!r}: names no database (dbname=...)")
    if data_path is not None and not data_path.strip():
        raise LakeSpecError("data path is empty")
    return LakeSpec(catalog, data_path.strip() if data_path else None)


def is_lake(store: str | None) -> bool:
    """Does a store setting (VOC_STORE, --duckdb) name a lake rather than a file?"""
    return bool(store) and store.strip().startswith(PREFIX)


def _quoted(text: str) -> str:
    return text.replace("'", "''")


def attach_statement(spec: LakeSpec, read_only: bool = False, alias: str = ALIAS) -> str:
    options = []
    if spec.data_path and not read_only:
        options.append(f"DATA_PATH '{_quoted(spec.data_path)}'")
    if read_only:
        options.append("READ_ONLY")
    suffix = f" ({', '.join(options)})" if options else ""
    return f"attach '{_quoted(spec.uri)}' as {alias}{suffix}"


def connect_lake(spec: LakeSpec, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the lake attached as ``lake`` (read-only if asked).

    Raises ``duckdb.Error`` (or ExtensionMissing) if the catalog cannot be reached;
    the caller decides whether that is a config error or worth a retry.
    """
    con = duckdb.connect()
    try:
        con.execute("set TimeZone = 'UTC'")
        names = ["postgres_scanner", "ducklake"]
        if spec.remote:
            names.append("httpfs")
        load_extensions(con, *names)
        con.execute(attach_statement(spec, read_only))
    except Exception:
        con.close()
        raise
    return con
