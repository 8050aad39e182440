"""Retry the sink through conditions that pass: a locked file, a full disk, a lake
whose PostgreSQL catalog is down or restarting.

A streaming job that crashes on a full disk turns an operator's five-minute fix
into a restart, and one that drops the bundle loses feedback. So the sink waits
instead: it retries with exponential backoff, says on every attempt what is
wrong in words an operator can act on, and acknowledges nothing it has not
committed; the source keeps those messages leased meanwhile and stops pulling
once its flow-control limit is reached.

Only errors that can clear up by themselves are retried. Anything else (a bug,
a file that is not a DuckDB database) is raised at once: waiting would hide it.
"""

from __future__ import annotations

import errno
import logging
import re
import time
from collections.abc import Callable
from typing import TypeVar

import duckdb

from voc.transforms.backoff import Backoff
from voc.transforms.error_text import first_line

_LOGGER = logging.getLogger("voc.sink")

T = TypeVar("T")

_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (?P<program>\S+) \(PID (?P<pid>\d+)\)")


# libpq's and DuckDB's words for a PostgreSQL catalog that cannot be reached or that
# dropped the connection (server stopped, restarted, failed over, backend terminated).
_CATALOG_UNREACHABLE = (
    "unable to connect to postgres",
    "could not connect",
    "connection refused",
    "server closed the connection",
    "terminating connection",
    "connection to server",
    "no connection to the server",
    "ssl connection has been closed",
    "the database system is starting up",
    "the database system is shutting down",
)
# The lake's commit to PostgreSQL failed and so did the ROLLBACK after it: the
# connection is gone (libpq leaves the message empty). Retrying is safe even if the
# commit had reached the server: the retry re-reads which keys the lake holds.
_LIBPQ_FAILURE = re.compile(r"connection to server [^\n]*? failed: [^\n]*")
_COMMIT_LOST = ('Failed to execute query "ROLLBACK"', 'Failed to execute query "COMMIT"')


# How every SinkUnavailable message ends; the CLI's log filter recognises it by this
# in runner warnings that carry only the message.
GAVE_UP = "the job is stopping; those messages were not acknowledged and will be delivered again"


class SinkUnavailable(RuntimeError):
    """The sink stayed unwritable until the job was told to stop; nothing was acked."""


def sink_unavailable_in(error: BaseException | None) -> SinkUnavailable | None:
    """The SinkUnavailable behind an error the runner wrapped or re-raised, if any."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, SinkUnavailable):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None


# 0.5 s doubling to 30 s: a locked file or a full disk takes a person to clear.
SINK_BACKOFF = Backoff()


def transient_reason(error: BaseException) -> str | None:
    """Why a write failed, in an operator's words, if retrying may succeed; else None."""
    if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
        return "disk full"
    if not isinstance(error, duckdb.Error):
        return None
    text = str(error)
    catalog = catalog_unreachable(text)
    if catalog is not None:
        return catalog
    if "No space left on device" in text or "Disk quota exceeded" in text:
        return "disk full"
    if "Could not set lock on file" in text:
        holder = _LOCK_HOLDER.search(text)
        who = f" ({holder['program'].rsplit('/', 1)[-1]}, PID {holder['pid']})" if holder else ""
        return f"the DuckDB file is locked by another process{who}"
    if "database has been invalidated" in text:
        return "the database was invalidated by an earlier I/O error; reopening it"
    if isinstance(error, (duckdb.IOException, duckdb.FatalException)) or (
        isinstance(error, duckdb.TransactionException) and "Could not write" in text
    ):
        return f"I/O error: {first_line(error, 300)}"
    return None


def catalog_unreachable(text: str) -> str | None:
    """The operator's words if a DuckDB error's text says the lake's PostgreSQL catalog
    is unreachable or dropped the connection mid-write; else None. Such a write is
    retried (nothing was acknowledged) until PostgreSQL is back."""
    if any(marker in text for marker in _COMMIT_LOST):
        return "the connection to the lake's PostgreSQL catalog broke during the commit"
    lowered = text.lower()
    if any(marker in lowered for marker in _CATALOG_UNREACHABLE):
        libpq = _LIBPQ_FAILURE.search(text)
        line = libpq[0] if libpq else (text.strip().splitlines() or ["no detail"])[0]
        return f"the lake's PostgreSQL catalog cannot be reached ({line[:200]})"
    return None


def retry_transient(
    action: Callable[[], T],
    *,
    what: str,
    give_up: Callable[[], bool] = lambda: False,
    backoff: Backoff = SINK_BACKOFF,
    sleep: Callable[[float], None] = time.sleep,
    log: Callable[[str], None] | None = None,
) -> T:
    """Run ``action`` until it succeeds or fails with an error that will not pass.

    ``give_up`` is asked after each transient failure; when it says so (the job
    was told to stop and its grace ran out), :class:`SinkUnavailable` is raised,
    which fails the bundle without acknowledging it.
    """
    log = log or _LOGGER.warning
    attempt = 0
    while True:
        try:
            return action()
        except Exception as error:
            reason = transient_reason(error)
            if reason is None:
                raise
            if give_up():
                raise SinkUnavailable(f"{what} failed ({reason}) and {GAVE_UP}") from error
            pause = backoff.delay(attempt)
            attempt += 1
            log(
                f"{what} failed: {reason}; nothing was acknowledged, retrying in "
                f"{pause:.1f} s (attempt {attempt})"
            )
            sleep(pause)
