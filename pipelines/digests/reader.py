"""How a digest reads the database: through the owner connection, never for writing.

``open_for_owner`` (pipelines/ops/owner_connection.py) goes to the running job
over Quack when there is one, and opens the file read-only when there is not;
either way a digest runs while ``voc run`` writes, and cannot change a table.
"""

from __future__ import annotations

from contextlib import AbstractContextManager


def open_reader(database: str) -> AbstractContextManager:
    """The owner connection for ``database`` (a context manager with ``query`` and
    ``source``); raises OwnerConnectionError with one line when it cannot open."""
    from voc.pipelines.ops.owner_connection import open_for_owner

    return open_for_owner(database)
