"""The running job's side of owner changes: read the inbox, apply, answer.

While ``voc run`` holds its DuckDB file no other process can write it, so owner
commands leave each change as ``<inbox>/<change_id>.json`` (owner-only, written
atomically) and wait for ``<change_id>.done.json``. A daemon thread of the job
polls the inbox every 0.25 s and applies each request, oldest first, through
the store's own connection and lock (:meth:`DuckDBStore.in_transaction`), so a
change is one more transaction among the sink's, never a second writer.

Crash safety: the request is removed only after its outcome is written, and the
outcome only after the commit. A job that dies in between leaves the request
behind; the next job applies it at its start, and the change's id (recorded by
:func:`voc.pipelines.ops.owner_changes.apply`) turns the second application into a
no-op that answers with the first outcome.
"""

from __future__ import annotations

import logging
import threading
import time
from contextlib import suppress
from pathlib import Path

import duckdb

from voc.pipelines.ops.live_job import inbox_dir
from voc.pipelines.ops.owner_changes import (
    ChangeOutcome,
    DeadLetterPurge,
    apply,
    change_from_json,
    done_file,
    write_private,
)
from voc.transforms.error_text import first_line
from voc.transforms.sinks.duckdb_store import DuckDBStore

log = logging.getLogger(__name__)

POLL_SECONDS = 0.25
# An answer nobody collected (the command was interrupted) is removed after this long.
STALE_ANSWER_SECONDS = 3600.0
DONE_SUFFIX = ".done.json"


def pending_requests(inbox: Path) -> list[Path]:
    """Request files waiting in the inbox, oldest first (the order owners sent them)."""
    try:
        entries = list(inbox.iterdir())
    except FileNotFoundError:
        return []
    requests = []
    for entry in entries:
        name = entry.name
        if name.endswith(".json") and not name.endswith(DONE_SUFFIX) and not name.startswith("."):
            with suppress(FileNotFoundError):
                requests.append((entry.stat().st_mtime_ns, name, entry))
    return [entry for _, _, entry in sorted(requests)]


class ChangeInbox:
    """Applies the changes owners leave in the job's inbox, until stopped."""

    def __init__(self, database: str, store: DuckDBStore, poll: float = POLL_SECONDS) -> None:
        self.inbox = inbox_dir(database)
        self.store = store
        self.poll = poll
        self.applied = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> ChangeInbox:
        self.inbox.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._thread = threading.Thread(target=self._run, name="voc-change-inbox", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop polling; a change being applied finishes first."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.process_pending()
            except Exception:  # the inbox must never take the job down
                log.exception("voc: owner change inbox")
            self._stop.wait(self.poll)

    def process_pending(self) -> int:
        """Apply every waiting request once; returns how many were answered."""
        answered = 0
        for request in pending_requests(self.inbox):
            if self._stop.is_set():
                break
            if self._answer(request):
                answered += 1
        self._remove_stale_answers()
        return answered

    def _answer(self, request: Path) -> bool:
        try:
            text = request.read_text(encoding="utf-8")
        except FileNotFoundError:  # taken back by its sender
            return False
        change_id = request.name.removesuffix(".json")
        try:
            change = change_from_json(text)
        except ValueError as error:
            outcome = ChangeOutcome(change_id, False, str(error))
        else:
            if change.change_id != change_id:
                outcome = ChangeOutcome(change_id, False, "request file name and change id differ")
            else:
                outcome = self._apply(change)
        write_private(done_file(self.inbox, change_id), outcome.to_json())
        request.unlink(missing_ok=True)
        self.applied += outcome.applied and not outcome.repeated
        return True

    def _apply(self, change) -> ChangeOutcome:
        try:
            outcome = self.store.in_transaction(lambda cur: apply(cur, change))
        except duckdb.Error as error:
            # The person who sent it reads this line; the change was not applied.
            return ChangeOutcome(
                change.change_id, False, f"the job could not apply it: {first_line(error)}"
            )
        if isinstance(change, DeadLetterPurge) and outcome.count and not change.dry_run:
            self._checkpoint()
        return outcome

    def _checkpoint(self) -> None:
        """Release a purge's freed blocks now; skipped if readers hold a transaction."""
        with self.store.lock, suppress(duckdb.Error):
            if self.store.con is not None:
                self.store.con.execute("checkpoint")

    def _remove_stale_answers(self) -> None:
        cutoff = time.time() - STALE_ANSWER_SECONDS
        for entry in self.inbox.glob(f"*{DONE_SUFFIX}"):
            with suppress(FileNotFoundError):
                if entry.stat().st_mtime < cutoff:
                    entry.unlink()


def start_inbox(database: str, store: DuckDBStore) -> ChangeInbox:
    """The job's inbox, applying what is already waiting (left by a job that stopped)."""
    return ChangeInbox(database, store).start()
