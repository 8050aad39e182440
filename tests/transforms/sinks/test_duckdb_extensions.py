"""The DuckDB extensions voc needs load from their wheels, offline, and a missing one
is named in one line."""

from __future__ import annotations

import duckdb
import pytest

from voc.transforms.sinks.duckdb_extensions import (
    ExtensionMissing,
    extension_file,
    load_extensions,
    wheel_name,
)


def test_httpfs_and_quack_load_from_their_wheels():
    for name in ("httpfs", "quack"):
        path = extension_file(name)
        assert path is not None, f"the {wheel_name(name)} wheel is not installed"
        assert f"v{duckdb.__version__}" in str(path)
    with duckdb.connect() as con:
        load_extensions(con, "httpfs", "quack")
        load_extensions(con, "quack")  # again: harmless
        loaded = dict(
            con.execute(
                "select extension_name, loaded from duckdb_extensions() "
                "where extension_name in ('httpfs', 'quack')"
            ).fetchall()
        )
        assert loaded == {"httpfs": True, "quack": True}
        assert con.execute(
            "select count(*) from duckdb_functions() where function_name = 'quack_serve'"
        ).fetchone()[0]


def test_a_wheel_built_for_another_duckdb_is_not_used():
    assert extension_file("quack", version="0.0.1") is None


def test_a_missing_extension_names_its_wheel():
    with duckdb.connect() as con, pytest.raises(ExtensionMissing) as caught:
        load_extensions(con, "no_such_extension")
    message = str(caught.value)
    assert f"pip install duckdb-extension-no-such-extension=={duckdb.__version__}" in message
    assert "\n" not in message
