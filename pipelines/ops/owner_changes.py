"""What owners change in the database, and how each change gets there while the job runs.

Owners and operators change a few things by command: a recovery item's status
(``voc recovery contact|resolve|reopen``), a cause's action (``voc fix record|
acknowledge``), dead letters (``voc dlq purge`` and the marks of ``voc dlq
replay``). DuckDB lets one process write a file, and a streaming job holds its
file for as long as it runs, so a command cannot simply open the file: each
change is a small value that one pure function, :func:`apply`, turns into SQL
inside one transaction, wherever that transaction runs:

- no job running: :func:`submit_change` opens the file read-write and applies it;
- a job running (:func:`voc.pipelines.ops.live_job.running_job`): it writes the
  change as JSON into the job's inbox and waits for the job to apply it with the
  same function and write back the outcome (:mod:`voc.pipelines.ops.change_inbox`);
- the store a lake (``VOC_STORE='ducklake:...'``): no job owns it, so the command
  applies the change itself in one lake transaction
  (:mod:`voc.pipelines.ops.lake_changes`).

Every change carries its own id, and :func:`apply` records the ids it applied
(``owner_changes_applied``): applying a change twice (a request left in the
inbox by a job that crashed after committing it, a retry) does nothing and
returns the first outcome. A change the rules refuse (an unknown item, a
transition that makes no sense) comes back as a refusal with a one-line reason,
never as an exception, because the person who typed it needs to read why.
"""

from __future__ import annotations

import getpass
import json
import os
import time
import uuid
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import duckdb

from voc.pipelines.ops import dead_letters
from voc.pipelines.ops.live_job import running_job
from voc.transforms.error_text import first_line
from voc.transforms.normalize_text import strip_invisible_controls
from voc.transforms.recovery_items import ITEM_PREFIX
from voc.transforms.redact_pii import redact_pii

# Recovery statuses as changes record them; "open" is the absence of a change (or the
# latest being "reopened"); "expired" is computed by recovery_queue_of.
CONTACTED, RESOLVED, REOPENED = "contacted", "resolved", "reopened"
RECOVERY_STATUSES = (CONTACTED, RESOLVED, REOPENED)
# What each current status may become. A second contact attempt is history worth
# keeping; resolving needs a contact first; only a resolved item can be reopened.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "open": (CONTACTED,),
    CONTACTED: (CONTACTED, RESOLVED),
    RESOLVED: (REOPENED,),
}
ACKNOWLEDGED, FIX_SHIPPED = "acknowledged", "fix_shipped"
ACTION_KINDS = (ACKNOWLEDGED, FIX_SHIPPED)
# Notes are read in department views and digests: one short paragraph is enough.
MAX_NOTE_CHARS = 2000
DEFAULT_TIMEOUT = 30.0
POLL_SECONDS = 0.1


def new_change_id() -> str:
    return uuid.uuid4().hex


def _now() -> datetime:
    return datetime.now(UTC)


def default_user() -> str:
    """Who a change is recorded as when ``--by`` is not given: the OS user."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (a container's arbitrary uid)
        return f"uid:{os.getuid()}"


# -- the changes ------------------------------------------------------------------


@dataclass(frozen=True)
class RecoveryChange:
    """A recovery item moves to ``status`` (contacted | resolved | reopened)."""

    item_id: str
    status: str
    note: str
    by: str
    change_id: str = field(default_factory=new_change_id)
    # When the owner made the change: the history's time, even if a job that was
    # down applies it later.
    requested_at: datetime = field(default_factory=_now)
    TYPE: ClassVar[str] = "recovery_change"


@dataclass(frozen=True)
class CauseAction:
    """An owner acknowledged a cause, or shipped a fix for it effective on a date."""

    department: str
    cause_id: str
    kind: str
    effective_date: date
    note: str
    by: str
    change_id: str = field(default_factory=new_change_id)
    requested_at: datetime = field(default_factory=_now)
    TYPE: ClassVar[str] = "cause_action"


@dataclass(frozen=True)
class DeadLetterPurge:
    """Delete dead letters received before ``requested_at - older_than`` (retention)."""

    older_than: timedelta
    reason: str | None
    dry_run: bool
    by: str
    change_id: str = field(default_factory=new_change_id)
    requested_at: datetime = field(default_factory=_now)
    TYPE: ClassVar[str] = "dead_letter_purge"


@dataclass(frozen=True)
class DeadLetterReplayMark:
    """These dead letters were re-published: count the replay (after publishing)."""

    dead_letter_ids: tuple[str, ...]
    by: str
    change_id: str = field(default_factory=new_change_id)
    requested_at: datetime = field(default_factory=_now)
    TYPE: ClassVar[str] = "dead_letter_replay_mark"


Change = RecoveryChange | CauseAction | DeadLetterPurge | DeadLetterReplayMark
CHANGE_TYPES: dict[str, type] = {
    kind.TYPE: kind for kind in (RecoveryChange, CauseAction, DeadLetterPurge, DeadLetterReplayMark)
}


@dataclass(frozen=True)
class ChangeOutcome:
    """What became of a change: applied or refused, and one line saying what."""

    change_id: str
    applied: bool
    message: str
    count: int = 0  # rows the change touched (purge: dead letters deleted or counted)
    repeated: bool = False  # the id was applied before: nothing was done this time
    via: str = ""  # where it was applied: "job pid N" or "file PATH" (set by submit_change)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ChangeOutcome:
        raw = json.loads(text)
        return cls(**{f.name: raw[f.name] for f in fields(cls) if f.name in raw})


class OwnerChangeError(Exception):
    """A change that could not be delivered or applied (not a refusal); one line."""


# -- JSON, for the inbox --------------------------------------------------------------


def change_to_json(change: Change) -> str:
    values: dict[str, Any] = {}
    for name, value in asdict(change).items():
        if isinstance(value, datetime | date):
            value = value.isoformat()
        elif isinstance(value, timedelta):
            value = value.total_seconds()
        elif isinstance(value, tuple):
            value = list(value)
        values[name] = value
    return json.dumps({"type": change.TYPE, "change": values})


def change_from_json(text: str) -> Change:
    """The change a request file holds; ValueError names what is wrong with it."""
    try:
        raw = json.loads(text)
        kind = CHANGE_TYPES[raw["type"]]
        values = dict(raw["change"])
        if "requested_at" in values:
            values["requested_at"] = datetime.fromisoformat(values["requested_at"])
        if kind is CauseAction:
            values["effective_date"] = date.fromisoformat(values["effective_date"])
        if kind is DeadLetterPurge:
            values["older_than"] = timedelta(seconds=float(values["older_than"]))
        if kind is DeadLetterReplayMark:
            values["dead_letter_ids"] = tuple(str(v) for v in values["dead_letter_ids"])
        return kind(**values)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise ValueError(f"not a voc change request: {first_line(error)}") from None


# -- apply: one change, one transaction's worth of SQL -------------------------------


def apply(con: duckdb.DuckDBPyConnection, change: Change) -> ChangeOutcome:
    """Apply ``change`` on ``con`` (inside the caller's transaction); a refusal is an
    outcome with ``applied=False`` and the reason, never an exception."""
    first = con.execute(
        "select outcome from owner_changes_applied where change_id = ?", [change.change_id]
    ).fetchone()
    if first is not None:
        return replace(ChangeOutcome.from_json(first[0]), repeated=True)
    if isinstance(change, RecoveryChange):
        outcome = _apply_recovery(con, change)
    elif isinstance(change, CauseAction):
        outcome = _apply_cause_action(con, change)
    elif isinstance(change, DeadLetterPurge):
        outcome = _apply_purge(con, change)
    elif isinstance(change, DeadLetterReplayMark):
        dead_letters.mark_replayed(con, change.dead_letter_ids, change.requested_at)
        count = len(change.dead_letter_ids)
        outcome = ChangeOutcome(change.change_id, True, f"marked {count:,} replayed", count)
    else:
        return ChangeOutcome(getattr(change, "change_id", ""), False, "unknown kind of change")
    if outcome.applied:
        con.execute(
            "insert into owner_changes_applied values (?, ?, ?, ?)",
            [change.change_id, change.TYPE, _now(), outcome.to_json()],
        )
    return outcome


def clean_note(note: str) -> str:
    """A note as department views may show it: one paragraph, no invisible controls,
    personal data redacted like customers' comments (owners type phone numbers)."""
    text = " ".join(strip_invisible_controls(note).split())
    return redact_pii(text)


def _note_problem(note: str) -> str | None:
    if not note:
        return "a note is required (what was done, or why)"
    if len(note) > MAX_NOTE_CHARS:
        return f"the note is {len(note):,} characters; at most {MAX_NOTE_CHARS:,}"
    return None


def _refuse(change: Change, reason: str) -> ChangeOutcome:
    return ChangeOutcome(change.change_id, False, reason)


def recovery_item_id(text: str) -> str:
    """An item id as typed: ``recovery:<interaction>`` or just the interaction id."""
    text = text.strip()
    return text if text.startswith(ITEM_PREFIX) else f"{ITEM_PREFIX}{text}"


def current_status(con, item_id: str) -> tuple[str, datetime | None]:
    """The item's status as its latest change says (reopened counts as open), and when."""
    latest = con.execute(
        "select status, changed_at from recovery_changes where item_id = ? "
        "order by changed_at desc limit 1",
        [item_id],
    ).fetchone()
    if latest is None:
        return "open", None
    status, at = latest
    return ("open" if status == REOPENED else status), at


def _apply_recovery(con, change: RecoveryChange) -> ChangeOutcome:
    if change.status not in RECOVERY_STATUSES:
        return _refuse(change, f"status must be one of {', '.join(RECOVERY_STATUSES)}")
    note = clean_note(change.note)
    problem = _note_problem(note) or (None if change.by.strip() else "who made it (--by) is empty")
    if problem:
        return _refuse(change, problem)
    item_id = recovery_item_id(change.item_id)
    if con.execute("select 1 from recovery_items where item_id = ?", [item_id]).fetchone() is None:
        return _refuse(change, f"no recovery item {item_id} (voc recovery list shows them)")
    status, last_at = current_status(con, item_id)
    allowed = TRANSITIONS.get(status, ())
    if change.status not in allowed:
        return _refuse(change, _transition_refusal(item_id, status, change.status))
    changed_at = change.requested_at.astimezone(UTC)
    if last_at is not None and changed_at <= last_at:
        # The history is ordered by time: a change never lands before the one it follows.
        changed_at = last_at + timedelta(microseconds=1)
    con.execute(
        "insert into recovery_changes (item_id, changed_at, status, changed_by, note, change_id)"
        " values (?, ?, ?, ?, ?, ?)",
        [item_id, changed_at, change.status, change.by.strip(), note, change.change_id],
    )
    shown = "open" if change.status == REOPENED else change.status
    return ChangeOutcome(change.change_id, True, f"{item_id}: {status} -> {shown}", 1)


def _transition_refusal(item_id: str, status: str, wanted: str) -> str:
    if wanted == RESOLVED and status == "open":
        return f"{item_id} is open: record the contact first (voc recovery contact)"
    if status == RESOLVED:
        return f"{item_id} is already resolved: reopen it first (voc recovery reopen)"
    return f"{item_id} is {status}: only a resolved item can be reopened"


def known_departments(con) -> list[str]:
    """Departments the file knows: the registry's (table departments, when there) and
    every department named in feedback_tags."""
    found = con.execute("select distinct department from feedback_tags").fetchall()
    names = {row[0] for row in found}
    has_registry = con.execute(
        "select count(*) from information_schema.tables where table_name = 'departments'"
    ).fetchone()[0]
    if has_registry:
        names |= {row[0] for row in con.execute("select department from departments").fetchall()}
    return sorted(names)


def _apply_cause_action(con, change: CauseAction) -> ChangeOutcome:
    if change.kind not in ACTION_KINDS:
        return _refuse(change, f"kind must be one of {', '.join(ACTION_KINDS)}")
    note = clean_note(change.note)
    problem = _note_problem(note) or (None if change.by.strip() else "who made it (--by) is empty")
    if problem:
        return _refuse(change, problem)
    today = change.requested_at.astimezone(UTC).date()
    if change.effective_date > today:
        return _refuse(
            change,
            f"the date {change.effective_date} is in the future; record the fix once it "
            "has shipped",
        )
    departments = known_departments(con)
    if change.department not in departments:
        return _refuse(
            change,
            f"unknown department {change.department!r} (known: {', '.join(departments)})",
        )
    seen = con.execute(
        "select 1 from feedback_tags where department = ? and cause_id = ? limit 1",
        [change.department, change.cause_id],
    ).fetchone()
    if seen is None:
        return _refuse(
            change,
            f"no feedback of department {change.department} names cause "
            f"{change.cause_id!r} (voc fix list, or the open_issues view, shows its causes)",
        )
    con.execute(
        "insert into cause_actions values (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            change.change_id,
            change.department,
            change.cause_id,
            change.kind,
            change.effective_date,
            note,
            change.by.strip(),
            change.requested_at.astimezone(UTC),
        ],
    )
    what = "fix shipped" if change.kind == FIX_SHIPPED else "acknowledged"
    return ChangeOutcome(
        change.change_id,
        True,
        f"{change.department}/{change.cause_id}: {what} {change.effective_date} "
        f"(action {change.change_id})",
        1,
    )


def _apply_purge(con, change: DeadLetterPurge) -> ChangeOutcome:
    count = dead_letters.purge(
        con,
        change.older_than,
        change.reason,
        dry_run=change.dry_run,
        now=change.requested_at,
        checkpoint=False,
    )
    verb = "would delete" if change.dry_run else "deleted"
    return ChangeOutcome(change.change_id, True, f"{verb} {count:,} dead letters", count)


# -- submit: to the running job, or to the file ---------------------------------------


class ChangeQueued(OwnerChangeError):
    """The job did not answer in time; the change stays in its inbox."""


def submit_change(
    database: str | os.PathLike, change: Change, timeout: float = DEFAULT_TIMEOUT
) -> ChangeOutcome:
    """Apply ``change`` to the owners' store (``VOC_STORE``, else ``database``): a lake
    directly, a file through the running job's inbox if a job holds it, else directly.
    Raises OwnerChangeError (one line) when it cannot be delivered; a refusal is a
    returned outcome."""
    from voc.pipelines.ops.owner_connection import owner_store
    from voc.transforms.sinks.ducklake_catalog import is_lake

    database = owner_store(database)
    if is_lake(database):
        from voc.pipelines.ops.lake_changes import apply_to_lake

        return apply_to_lake(database, change)
    job = running_job(database)
    if job is not None:
        outcome = _through_inbox(database, Path(job.inbox), job.pid, change, timeout)
        return outcome if outcome.via else replace(outcome, via=f"job pid {job.pid}")
    return apply_to_file(database, change)


# A job that has just stopped may still hold the file for a moment (closing its store
# after withdrawing its .live file): how long a locked file is retried.
LOCK_WAIT_SECONDS = 5.0


def apply_to_file(database: str | os.PathLike, change: Change) -> ChangeOutcome:
    """Open the file read-write (migrating it), apply in one transaction, close."""
    from voc.transforms.sinks.duckdb_schema import prepare

    path = Path(database)
    if not path.is_file():
        raise OwnerChangeError(f"{database}: no such file")
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while True:
        try:
            con = duckdb.connect(str(path))
            break
        except duckdb.Error as error:
            if "lock" not in str(error).lower() or time.monotonic() >= deadline:
                raise OwnerChangeError(f"{database}: {_open_problem(error)}") from None
            time.sleep(0.2)
    try:
        prepare(con)
        con.execute("begin transaction")
        try:
            outcome = apply(con, change)
            con.execute("commit")
        except Exception:
            con.execute("rollback")
            raise
        if isinstance(change, DeadLetterPurge) and outcome.count and not change.dry_run:
            # Release the freed blocks now rather than at the next automatic checkpoint.
            con.execute("checkpoint")
        return replace(outcome, via=f"file {database}")
    except duckdb.Error as error:
        raise OwnerChangeError(f"{database}: {first_line(error)}") from None
    finally:
        con.close()


def _open_problem(error: duckdb.Error) -> str:
    text = first_line(error)
    if "lock" in text.lower():
        return (
            f"{text}; another process holds the file and has not announced itself as a voc "
            "job: stop it, or wait for it to finish"
        )
    return text


def request_file(inbox: Path, change_id: str) -> Path:
    return inbox / f"{change_id}.json"


def done_file(inbox: Path, change_id: str) -> Path:
    return inbox / f"{change_id}.done.json"


def write_private(path: Path, text: str) -> None:
    """Write ``path`` atomically, readable by its owner only from the first byte."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    os.replace(partial, path)


def _through_inbox(
    database: str | os.PathLike, inbox: Path, pid: int, change: Change, timeout: float
) -> ChangeOutcome:
    """Leave the change in the job's inbox and wait for the job's answer.

    Unanswered in time, the request stays in the inbox (it is idempotent, and the
    job applies it when it next reads its inbox, at the latest when it starts
    again): taking it back could race with a job that has just applied it.
    If the job ends while we wait, the request is taken back and applied to the
    file directly (its id makes a second application a no-op).
    """
    request, done = request_file(inbox, change.change_id), done_file(inbox, change.change_id)
    if not inbox.is_dir():
        raise OwnerChangeError(
            f"the running job (pid {pid}) has no inbox {inbox} (a voc older than owner "
            "changes?); stop it, or wait for it to finish"
        )
    try:
        write_private(request, change_to_json(change))
    except OSError as error:
        raise OwnerChangeError(
            f"cannot leave the change in the running job's inbox {inbox}: {first_line(error)}"
        ) from None
    deadline = time.monotonic() + timeout
    while True:
        outcome = _read_done(done)
        if outcome is not None:
            return outcome
        if running_job(database) is None:
            outcome = _read_done(done)
            if outcome is not None:
                return outcome
            result = apply_to_file(database, change)
            request.unlink(missing_ok=True)
            return result
        if time.monotonic() >= deadline:
            raise ChangeQueued(
                f"the running job (pid {pid}) has not applied change {change.change_id} within "
                f"{timeout:g} s; it stays queued in {inbox} and applies when the job reads its "
                "inbox (do not submit it again)"
            )
        time.sleep(POLL_SECONDS)


def _read_done(done: Path) -> ChangeOutcome | None:
    try:
        text = done.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    done.unlink(missing_ok=True)
    return ChangeOutcome.from_json(text)
