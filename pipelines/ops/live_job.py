"""Whether a job is running on a DuckDB file right now, and how to reach it.

DuckDB lets one process write a file, and while it writes, no other process may
even open it read-only. A running ``voc run`` therefore announces itself in a
small file beside the database, ``<database>.live``, readable only by the user
who runs the job (it holds the token that admits SQL clients):

    {"pid": 4242, "database": "/data/voc.duckdb", "started_at": "...",
     "quack_uri": "quack:localhost:41234", "token": "...", "inbox": "/data/voc.duckdb.requests"}

Owner commands read it to decide where to go: to the job (queries over Quack,
changes through the job's inbox) when one is running, to the file itself when
none is. ``quack_uri`` and ``token`` are null when the job runs with ``--no-serve``.
A job killed with ``kill -9`` leaves its file behind; a file whose process is gone
counts as no job, and the next start replaces it.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

LIVE_SUFFIX = ".live"
INBOX_SUFFIX = ".requests"


@dataclass(frozen=True)
class LiveJob:
    pid: int
    database: str
    started_at: str
    quack_uri: str | None
    token: str | None
    inbox: str

    @property
    def serves_sql(self) -> bool:
        return self.quack_uri is not None and self.token is not None


def live_file(database: str | os.PathLike) -> Path:
    return Path(f"{Path(database).resolve()}{LIVE_SUFFIX}")


def inbox_dir(database: str | os.PathLike) -> Path:
    """Where owner commands leave changes for the running job to apply."""
    return Path(f"{Path(database).resolve()}{INBOX_SUFFIX}")


def announce(database: str, quack_uri: str | None = None, token: str | None = None) -> LiveJob:
    """Write this process's ``.live`` file, owner-only from its first byte."""
    job = LiveJob(
        pid=os.getpid(),
        database=str(Path(database).resolve()),
        started_at=datetime.now(UTC).isoformat(),
        quack_uri=quack_uri,
        token=token,
        inbox=str(inbox_dir(database)),
    )
    target = live_file(database)
    partial = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(asdict(job), out)
    os.replace(partial, target)
    return job


def withdraw(database: str) -> None:
    """Remove the ``.live`` file if it is this process's (a newer job may own it)."""
    job = _read(live_file(database))
    if job is not None and job.pid == os.getpid():
        live_file(database).unlink(missing_ok=True)


def running_job(database: str | os.PathLike) -> LiveJob | None:
    """The job announced for ``database`` if its process is still alive."""
    job = _read(live_file(database))
    if job is None or not _alive(job.pid):
        return None
    return job


def _read(path: Path) -> LiveJob | None:
    try:
        fields = json.loads(path.read_text(encoding="utf-8"))
        return LiveJob(**fields)
    except (OSError, ValueError, TypeError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive, just not ours to signal
        return True
    return True
