"""One send per (department, period, channel), retries with backoff, every failure kept.

The ledger is a JSON-lines file beside the digests (``digest-ledger.jsonl`` in the
output folder), one line per attempt outcome, appended and fsynced, never
rewritten. It lives there and not in DuckDB because the job owns the database: a
digest only ever reads it. An exclusive ``fcntl`` lock on the ledger is held for
the whole delivery of a run, so two runs started together (cron and a person)
cannot both send: the second waits, then finds the first one's ``sent`` line.

A key's state is its last line: ``sent`` (never sent again), ``failed`` (the
next run retries it, whatever period that run is for, from the files already
written), or ``cancelled`` (the channel was removed from the department's
delivery; recorded, not silently forgotten).
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from voc.transforms.backoff import Backoff

LEDGER_NAME = "digest-ledger.jsonl"
SENT, FAILED, CANCELLED = "sent", "failed", "cancelled"
# Production: 4 tries over ~14 s (2 + 4 + 8); a chat tool or relay that is down
# for longer is retried by the next scheduled run, from the ledger.
DEFAULT_ATTEMPTS = 4
DEFAULT_BACKOFF = Backoff(first=2.0, factor=2.0, cap=60.0, jitter=0.2)


@dataclass(frozen=True)
class Key:
    department: str
    period_start: str  # ISO, UTC
    period_end: str
    channel: str  # email | webhook

    def text(self) -> str:
        return f"{self.department} {self.period_start}..{self.period_end} {self.channel}"


@dataclass(frozen=True)
class Attempted:
    """How a send ended after its retries."""

    ok: bool
    attempts: int
    error: str = ""
    detail: str = ""  # e.g. the receiver's answer on success


def with_retries(
    send: Callable[[], str],
    attempts: int = DEFAULT_ATTEMPTS,
    backoff: Backoff = DEFAULT_BACKOFF,
    sleep: Callable[[float], None] = time.sleep,
) -> Attempted:
    """Call ``send`` until it returns (its return value is the detail kept) or
    ``attempts`` calls have raised; waits ``backoff.delay(n)`` between calls."""
    error = ""
    for attempt in range(attempts):
        if attempt:
            sleep(backoff.delay(attempt - 1))
        try:
            return Attempted(True, attempt + 1, detail=send())
        except Exception as failure:  # every failure is recorded with its reason
            error = f"{type(failure).__name__}: {' '.join(str(failure).split())}"[:500]
    return Attempted(False, attempts, error=error)


class Ledger:
    """The ledger file of one output folder, locked while open (a context manager)."""

    def __init__(self, folder: str | os.PathLike) -> None:
        self.path = Path(folder) / LEDGER_NAME
        self._file = None
        self._last: dict[Key, dict[str, Any]] = {}

    def __enter__(self) -> Ledger:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "a+", encoding="utf-8")  # held until __exit__
        fcntl.flock(self._file, fcntl.LOCK_EX)
        self._file.seek(0)
        for line in self._file:
            if line.strip():
                entry = json.loads(line)
                self._last[key_of(entry)] = entry
        return self

    def __exit__(self, *_exc) -> None:
        assert self._file is not None
        fcntl.flock(self._file, fcntl.LOCK_UN)
        self._file.close()
        self._file = None

    def last(self, key: Key) -> dict[str, Any] | None:
        return self._last.get(key)

    def was_sent(self, key: Key) -> bool:
        last = self._last.get(key)
        return last is not None and last["status"] == SENT

    def outstanding(self, departments: set[str] | None = None) -> Iterator[dict[str, Any]]:
        """Keys whose last outcome is a failure: what the next run must retry."""
        for key, entry in self._last.items():
            if entry["status"] == FAILED and (departments is None or key.department in departments):
                yield entry

    def record(self, key: Key, status: str, attempted: Attempted | None, **extra: Any) -> dict:
        assert self._file is not None, "the ledger is written only while locked"
        entry = {
            **asdict(key),
            "status": status,
            "attempts": attempted.attempts if attempted else 0,
            "error": attempted.error if attempted else "",
            "detail": attempted.detail if attempted else "",
            "recorded_at": datetime.now(UTC).isoformat(),
            **extra,
        }
        self._file.write(json.dumps(entry, sort_keys=True) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())
        self._last[key] = entry
        return entry


def key_of(entry: dict[str, Any]) -> Key:
    return Key(entry["department"], entry["period_start"], entry["period_end"], entry["channel"])
