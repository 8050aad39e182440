"""What one department's digest says for one period, read from the department macros.

Every number in a digest comes from the same table macros the department views
call (``open_issues_of``, ``trend_daily_of``, ``csat_by_channel_of``,
``alerts_of``, ``verbatims_of``, ``recovery_queue_of``, ``fix_impact_of``), with
the digest's own period, so a digest and a query of ``billing.open_issues`` never
disagree. Reading goes through the owner connection: the running job over Quack
when there is one, the file opened read-only otherwise; the digest never needs
write access to the database the job owns.

A macro this database does not have (an older file) leaves its section empty and
is named in ``DigestContent.missing``, which the digest prints: an honest gap,
not a crash and not a silent omission.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from voc.pipelines.digests.text import clean_text

# The macros a digest reads, in the order its sections appear.
MACROS = (
    "open_issues_of",
    "trend_daily_of",
    "csat_by_channel_of",
    "alerts_of",
    "fix_impact_of",
    "recovery_queue_of",
    "verbatims_of",
)
TOP_CAUSES = 5
VERBATIMS_PER_CAUSE = 4
OVERDUE_SHOWN = 5

_PERIOD = re.compile(r"^(\d+)([hdw])$")
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


class Reader(Protocol):
    """The shape of voc.pipelines.ops.owner_connection.OwnerConnection a digest needs."""

    def query(self, sql: str, params: Sequence[object] = ()) -> Any: ...


class PeriodError(ValueError):
    """A period or end time that cannot be read; the CLI turns it into exit 2."""


class RegistryError(ValueError):
    """A departments row the digest cannot use; the CLI turns it into exit 2."""


@dataclass(frozen=True)
class Period:
    """``[start, end)`` in UTC, compared with the period of the same length before it."""

    start: datetime
    end: datetime

    @property
    def length(self) -> timedelta:
        return self.end - self.start

    @property
    def previous_start(self) -> datetime:
        return self.start - self.length

    @property
    def label(self) -> str:
        """``2026-11-25 to 2026-12-02`` (the end excluded), hours shown when not midnight."""
        return f"{_when(self.start)} to {_when(self.end)}"

    @property
    def slug(self) -> str:
        """A file-name-safe form: ``20261125T0000Z-20261202T0000Z``."""
        return f"{self.start:%Y%m%dT%H%MZ}-{self.end:%Y%m%dT%H%MZ}"


def _when(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    if moment.time() == datetime.min.time():
        return f"{moment:%Y-%m-%d}"
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def parse_length(text: str) -> timedelta:
    """``7d``, ``24h``, ``2w``."""
    match = _PERIOD.match(text.strip())
    if not match or int(match.group(1)) == 0:
        raise PeriodError(f"period {text!r}: expected a positive length like 7d, 24h or 2w")
    return int(match.group(1)) * _UNITS[match.group(2)]


def parse_end(text: str | None, now: datetime | None = None) -> datetime:
    """The period's end: an ISO date or time (UTC if no offset), or by default the start
    of today (UTC), so every run on one day covers the same period: that is what
    makes a scheduled digest idempotent."""
    if text is None:
        now = (now or datetime.now(UTC)).astimezone(UTC)
        return datetime.combine(now.date(), datetime.min.time(), UTC)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise PeriodError(f"end {text!r}: expected an ISO date or time") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def period_of(length: str, end: str | None = None, now: datetime | None = None) -> Period:
    finish = parse_end(end, now)
    return Period(finish - parse_length(length), finish)


@dataclass(frozen=True)
class CauseLine:
    cause_id: str
    sub_cause_id: str
    level: str
    contacts: int
    previous_contacts: int
    change: int
    change_pct: float | None
    share: float | None
    negative_share: float | None
    mean_csat: float | None
    status: str
    fix_date: date | None


@dataclass(frozen=True)
class TrendPoint:
    day: date
    cause_id: str
    contacts: int
    negative: int
    mean_csat: float | None


@dataclass(frozen=True)
class ChannelLine:
    channel: str
    contacts: int
    surveys: int
    mean_csat: float | None
    nps: float | None
    mean_effort: float | None
    share_negative: float | None


@dataclass(frozen=True)
class AlertLine:
    alert_id: str
    cause_id: str
    status: str
    opened_window_start: datetime
    closed_window_start: datetime | None
    observed: int
    expected: float
    score: float
    peak_observed: int


@dataclass(frozen=True)
class FixLine:
    action_id: str
    cause_id: str
    fix_date: date
    note: str
    before_contacts: int | None
    after_contacts: int | None
    change_pct: float | None
    verdict: str


@dataclass(frozen=True)
class RecoveryLine:
    """An overdue follow-up: pseudonymised ids only, never a name or an address."""

    item_id: str
    customer_id: str
    channel: str
    cause_id: str
    reason: str
    due_at: datetime
    status: str


@dataclass(frozen=True)
class Verbatim:
    event_time: datetime
    source: str
    channel: str
    cause_id: str
    sub_cause_id: str
    sentiment_score: float | None
    evidence: str
    text: str
    csat: int | None
    nps: int | None


@dataclass(frozen=True)
class Health:
    """The pipeline over the period (pipeline_health's hours inside it) and now
    (pipeline_status)."""

    hours: int
    feedback_stored: int
    no_cause: int
    dead_letters: int
    late_events: int
    event_age_seconds: float | None = None
    unresolved_dead_letters: int | None = None

    @property
    def share_no_cause(self) -> float | None:
        return self.no_cause / self.feedback_stored if self.feedback_stored else None


@dataclass(frozen=True)
class DigestContent:
    department: str
    period: Period
    generated_at: datetime
    description: str = ""
    source: str = ""
    causes: tuple[CauseLine, ...] = ()
    sub_causes: tuple[CauseLine, ...] = ()
    trend: tuple[TrendPoint, ...] = ()
    channels: tuple[ChannelLine, ...] = ()
    alerts: tuple[AlertLine, ...] = ()
    fixes: tuple[FixLine, ...] = ()
    overdue_count: int = 0
    overdue: tuple[RecoveryLine, ...] = ()
    verbatims: dict[str, tuple[Verbatim, ...]] = field(default_factory=dict)
    health: Health | None = None
    # Macros this database lacks: their sections are empty, and the digest says so.
    missing: tuple[str, ...] = ()

    @property
    def total_contacts(self) -> int:
        """Distinct contacts the department had in the period: open_issues_of's share
        is contacts / this total, so any cause row gives it back exactly (a contact
        naming two causes counts once, as in the view)."""
        for cause in self.causes:
            if cause.contacts and cause.share:
                return round(cause.contacts / cause.share)
        return 0

    @property
    def empty(self) -> bool:
        return not any(c.contacts for c in self.causes)

    @property
    def top_causes(self) -> tuple[CauseLine, ...]:
        return tuple(c for c in self.causes if c.contacts > 0)[:TOP_CAUSES]

    @property
    def subject(self) -> str:
        return f"voc digest: {self.department}, {self.period.label}"


def rows_of(result: Any) -> list[dict[str, Any]]:
    """QueryResult (columns, rows) as dicts, so a macro may add columns freely."""
    return [dict(zip(result.columns, row, strict=True)) for row in result.rows]


def _pick(cls, row: dict[str, Any], **overrides):
    """``cls`` from the row's columns of the same names (missing ones: None)."""
    names = cls.__dataclass_fields__
    return cls(**{name: overrides.get(name, row.get(name)) for name in names})


def present_macros(reader: Reader) -> set[str]:
    result = reader.query(
        "select distinct function_name from duckdb_functions()"
        " where function_type = 'table_macro' and function_name in ("
        + ", ".join("?" for _ in MACROS)
        + ")",
        list(MACROS),
    )
    return {row[0] for row in result.rows}


def _dated(reader: Reader, macro: str, department: str, period: Period, order: str = "") -> list:
    sql = f"select * from {macro}(?, ?::timestamptz, ?::timestamptz){order}"
    params = [department, period.start.isoformat(), period.end.isoformat()]
    return rows_of(reader.query(sql, params))


def pick_verbatims(
    rows: Iterable[dict[str, Any]], cause_ids: Iterable[str], per_cause: int = VERBATIMS_PER_CAUSE
) -> dict[str, tuple[Verbatim, ...]]:
    """Representative verbatims per cause: the most negative distinct texts that carry
    evidence (the words that made the tag), newest first among equals.

    Distinct by text, case and spacing ignored, so a pasted complaint sent twice is
    shown once.
    """
    wanted = list(cause_ids)
    pools: dict[str, list[Verbatim]] = {cause: [] for cause in wanted}
    for row in rows:
        cause = row.get("cause_id")
        text = clean_text(row.get("text"))
        if cause not in pools or not text or not clean_text(row.get("evidence")):
            continue
        pools[cause].append(_pick(Verbatim, row, text=text, evidence=clean_text(row["evidence"])))
    chosen: dict[str, tuple[Verbatim, ...]] = {}
    for cause, pool in pools.items():
        pool.sort(key=lambda v: v.event_time, reverse=True)
        pool.sort(key=lambda v: 0.0 if v.sentiment_score is None else v.sentiment_score)
        seen: set[str] = set()
        picked = []
        for verbatim in pool:
            key = " ".join(verbatim.text.lower().split())
            if key in seen:
                continue
            seen.add(key)
            picked.append(verbatim)
            if len(picked) == per_cause:
                break
        chosen[cause] = tuple(picked)
    return chosen


def _health(reader: Reader, period: Period) -> Health | None:
    totals = rows_of(
        reader.query(
            "select count(*) as hours, coalesce(sum(feedback_stored), 0) as feedback_stored,"
            " coalesce(sum(no_cause), 0) as no_cause,"
            " coalesce(sum(dead_letters), 0) as dead_letters,"
            " coalesce(sum(late_events), 0) as late_events"
            " from pipeline_health where hour >= ?::timestamptz and hour < ?::timestamptz",
            [period.start.isoformat(), period.end.isoformat()],
        )
    )[0]
    status = rows_of(
        reader.query("select event_age_seconds, unresolved_dead_letters from pipeline_status")
    )
    now = status[0] if status else {}
    return Health(
        hours=int(totals["hours"]),
        feedback_stored=int(totals["feedback_stored"]),
        no_cause=int(totals["no_cause"]),
        dead_letters=int(totals["dead_letters"]),
        late_events=int(totals["late_events"]),
        event_age_seconds=now.get("event_age_seconds"),
        unresolved_dead_letters=now.get("unresolved_dead_letters"),
    )


def has_departments_table(reader: Reader) -> bool:
    """Whether this file has the ``departments`` table (files older than issue 13 do not)."""
    rows = reader.query(
        "select count(*) from duckdb_tables() where schema_name = 'main'"
        " and table_name = 'departments'"
    ).rows
    return bool(rows[0][0])


def department_description(reader: Reader, department: str) -> str:
    """The department's line from the ``departments`` table, '' if it has none."""
    if not has_departments_table(reader):
        return ""
    rows = reader.query(
        "select description from departments where department = ?", [department]
    ).rows
    return clean_text(rows[0][0]) if rows and rows[0][0] else ""


def gather(
    reader: Reader,
    department: str,
    period: Period,
    *,
    source: str = "",
    now: datetime | None = None,
) -> DigestContent:
    """Everything one department's digest shows for ``period``, from the macros."""
    present = present_macros(reader)
    missing = tuple(m for m in MACROS if m not in present)
    found: dict[str, Any] = {}
    if "open_issues_of" in present:
        issues = [
            _pick(CauseLine, row, sub_cause_id=row.get("sub_cause_id") or "")
            for row in _dated(reader, "open_issues_of", department, period)
        ]
        found["causes"] = tuple(c for c in issues if c.level == "cause")
        found["sub_causes"] = tuple(c for c in issues if c.level == "sub_cause")
    if "trend_daily_of" in present:
        rows = _dated(reader, "trend_daily_of", department, period, " order by day, cause_id")
        found["trend"] = tuple(_pick(TrendPoint, row) for row in rows)
    if "csat_by_channel_of" in present:
        rows = _dated(reader, "csat_by_channel_of", department, period)
        lines = (_pick(ChannelLine, row) for row in rows)
        found["channels"] = tuple(sorted(lines, key=lambda c: (-c.contacts, c.channel)))
    if "alerts_of" in present:
        rows = _dated(reader, "alerts_of", department, period)
        found["alerts"] = tuple(_pick(AlertLine, row) for row in rows)
    if "fix_impact_of" in present:
        rows = rows_of(reader.query("select * from fix_impact_of(?)", [department]))
        found["fixes"] = tuple(_pick(FixLine, row) for row in rows)
    if "recovery_queue_of" in present:
        rows = rows_of(
            reader.query(
                "select * from recovery_queue_of(?) where overdue order by due_at, item_id",
                [department],
            )
        )
        found["overdue_count"] = len(rows)
        found["overdue"] = tuple(_pick(RecoveryLine, row) for row in rows[:OVERDUE_SHOWN])
    content = DigestContent(
        department=department,
        period=period,
        generated_at=(now or datetime.now(UTC)).astimezone(UTC),
        description=department_description(reader, department),
        source=source,
        missing=missing,
        health=_health(reader, period),
        **found,
    )
    if "verbatims_of" in present and not content.empty:
        rows = _dated(reader, "verbatims_of", department, period)
        causes = [c.cause_id for c in content.top_causes]
        verbatims = pick_verbatims(rows, causes)
        content = DigestContent(**{**content.__dict__, "verbatims": verbatims})
    return content


def departments(reader: Reader) -> list[str]:
    """The departments to write digests for: every row of ``departments`` (the
    taxonomy plus the owners registry) and any other department feedback was
    tagged with."""
    sql = "select distinct department from feedback_tags"
    if has_departments_table(reader):
        sql = f"select department from departments union {sql}"
    return [row[0] for row in reader.query(f"{sql} order by 1").rows]


@dataclass(frozen=True)
class Registered:
    """A department's row of the ``departments`` table (the owners registry, as the
    job loaded it): where its digest goes and when."""

    department: str
    contact: str | None
    digest_schedule: dict[str, Any] | None  # {"cron": ..., "timezone": ...}
    delivery: Any  # {"kind": ...} or a list of them; None: files only


def registry(reader: Reader) -> dict[str, Registered]:
    """Every department's delivery and schedule; empty for a file without the table."""
    if not has_departments_table(reader):
        return {}
    rows = reader.query(
        "select department, contact, digest_schedule, delivery from departments"
    ).rows
    return {
        department: Registered(department, contact, _json(schedule), _json(delivery))
        for department, contact, schedule, delivery in rows
    }


def _json(text: str | None) -> Any:
    if text is None or text == "":
        return None
    try:
        return json.loads(text)
    except ValueError:
        raise RegistryError(f"departments table: {text!r} is not JSON") from None
