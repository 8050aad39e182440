"""DuckDB extensions, loaded from the wheels voc pins: the one place that knows where.

DuckDB 1.5.5 builds in neither Quack (its client-server protocol, which lets owners
query while the job writes) nor httpfs (which Quack needs on both sides), nor
DuckLake and the PostgreSQL scanner (the multi-writer sink and its catalog), and
downloading them at run time fails offline. PyPI ships each as a wheel,
``duckdb-extension-<name>==1.5.5``, holding the signed ``.duckdb_extension`` file;
``LOAD '<that file>'`` needs no network. Every connection that serves or reads
live SQL calls :func:`load_extensions` here, so moving to DuckDB 2.x (whose
``INSTALL`` works online) is a change of pins: without the wheel, the extension
is loaded by name from DuckDB's own extension directory.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import duckdb

# Extension name -> the importable module of its PyPI wheel (duckdb-extension-<name>).
EXTENSION_WHEELS = {
    "httpfs": "duckdb_extension_httpfs",
    "quack": "duckdb_extension_quack",
    # The DuckLake sink: the lake format, and PostgreSQL for its catalog.
    "ducklake": "duckdb_extension_ducklake",
    "postgres_scanner": "duckdb_extension_postgres_scanner",
}


class ExtensionMissing(RuntimeError):
    """An extension neither shipped by its wheel nor installed in DuckDB; one line."""


def wheel_name(name: str) -> str:
    """The PyPI distribution that ships extension ``name`` for this DuckDB version."""
    return f"duckdb-extension-{name.replace('_', '-')}=={duckdb.__version__}"


def extension_file(name: str, version: str | None = None) -> Path | None:
    """The ``.duckdb_extension`` file the wheel ships for this DuckDB version, if
    the wheel is installed and was built for it."""
    module_name = EXTENSION_WHEELS.get(name, f"duckdb_extension_{name}")
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return None
    if module.__file__ is None:
        return None
    found = (
        Path(module.__file__).parent
        / "extensions"
        / f"v{version or duckdb.__version__}"
        / f"{name}.duckdb_extension"
    )
    return found if found.is_file() else None


def load_extensions(con: duckdb.DuckDBPyConnection, *names: str) -> None:
    """Load each extension into ``con``'s database: from its wheel, else by name.

    Loading twice is harmless (DuckDB keeps one copy per database).
    """
    for name in names:
        path = extension_file(name)
        try:
            if path is not None:
                con.execute(f"load '{_quoted(str(path))}'")
            else:
                con.execute(f"load {_identifier(name)}")
        except duckdb.Error as error:
            first = str(error).strip().splitlines()[0] if str(error).strip() else type(error)
            where = f"from {path}" if path else f"(pip install {wheel_name(name)})"
            raise ExtensionMissing(
                f"DuckDB extension {name} could not be loaded {where}: {first}"
            ) from None


def _quoted(text: str) -> str:
    return text.replace("'", "''")


def _identifier(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ExtensionMissing(f"DuckDB extension {name!r}: not an extension name")
    return name
