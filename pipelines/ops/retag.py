"""``voc retag``: stored feedback under a new taxonomy or model, as a version owners
see only once it is promoted.

    voc retag --since 2026-11-01 --taxonomy new.yaml --dry-run     # what would move
    voc retag --since 2026-11-01 --taxonomy new.yaml               # write version r1.1.0-...
    voc retag --list                                               # versions and status
    voc retag --promote r1.1.0-3f9a2c81d0                          # owners see it now
    voc retag --promote previous-1                                 # and back again

Owners read ``feedback_tags``; a re-tag never writes there. It tags the stored,
redacted texts of the range again (in worker processes, chunk by chunk) and
writes the tags to ``feedback_tag_candidates`` under a version id made from its
inputs (:mod:`voc.pipelines.ops.retag_versions`), so running it twice adds
nothing. ``--promote`` then, in ONE transaction, moves the tags it replaces to
``feedback_tag_history`` (as version ``previous-N``, which can be promoted back),
puts the version's tags in feedback_tags, records the promotion and rebuilds the
derived tables from the facts (:func:`voc.pipelines.ops.reconcile.rebuild`).
A reader therefore sees the old tags and rollups or the new ones, never a mix.

The file must not be held by a running job (DuckDB allows one writer): stop the
job, re-tag and promote, and start it again with the new taxonomy. Tag rows are
built as the sink builds them; the stored text is what the streaming tagger saw
(redaction first, and redacting a redacted text changes nothing).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from voc.pipelines.ops.retag_diff import RetagDiff, diff_causes
from voc.pipelines.ops.retag_versions import (
    CauseTuple,
    TagRange,
    candidate_rows,
    cause_tuples,
    version_id,
)
from voc.transforms.sinks.duckdb_store import DuckDBStore, registered
from voc.transforms.sinks.tables import FEEDBACK_TAGS
from voc.transforms.tag_feedback import SIGNAL_FIELDS, tag_text

if TYPE_CHECKING:
    from voc.transforms.derived.settings import EventTimeSettings
    from voc.transforms.learned_model import LearnedModel
    from voc.transforms.taxonomy import Taxonomy

__all__ = [
    "PromoteOutcome",
    "RetagError",
    "RetagOutcome",
    "Tagger",
    "UnknownVersion",
    "dry_run",
    "list_versions",
    "promote",
    "retag",
]

CHUNK = 1_000  # texts per worker task: big enough that pickling is noise
WRITE_EVERY = 20_000  # events per write transaction (a crash resumes from there)
CANDIDATES_SCHEMA = pa.schema([("tag_version", pa.string()), *FEEDBACK_TAGS.schema])
TAG_COLUMNS = [name for name in FEEDBACK_TAGS.schema.names]


class RetagError(Exception):
    """A re-tag that cannot run (a file that is not voc's, a version in the wrong
    state); the message is one line."""


class UnknownVersion(RetagError):
    """--promote names no version of this file."""


# -- tagging, in worker processes -------------------------------------------------

_WORKER: dict[str, Any] = {}


def _start_worker(taxonomy: Taxonomy, model: LearnedModel | None) -> None:
    _WORKER["taxonomy"] = taxonomy
    _WORKER["model"] = model


def tag_chunk(items: list[tuple[str, str, dict]]) -> list[tuple[str, list[CauseTuple], bool]]:
    """(event_id, stored text, signals) -> (event_id, causes, whether redacting the
    stored text again changed it), with the taxonomy and model of this process."""
    taxonomy, model = _WORKER["taxonomy"], _WORKER["model"]
    tagged = []
    for event_id, text, signals in items:
        result = tag_text(text, taxonomy, signals or None, model)
        tagged.append((event_id, cause_tuples(result.causes), result.text != text))
    return tagged


class Tagger:
    """Tags stored texts in chunks: in ``workers`` forked processes, or in this one.

    Enter it before opening DuckDB: the workers are forked then, while this process
    holds no database connection and no DuckDB thread, and inherit the compiled
    taxonomy and model instead of loading them (a spawned worker would pay seconds
    of imports first)."""

    def __init__(self, taxonomy: Taxonomy, model: LearnedModel | None, workers: int = 2):
        self.taxonomy = taxonomy
        self.model = model
        self.workers = workers
        self.pool = None

    def __enter__(self) -> Tagger:
        _start_worker(self.taxonomy, self.model)
        if self.workers > 1:
            context = multiprocessing.get_context("fork")
            self.pool = context.Pool(
                self.workers, initializer=_start_worker, initargs=(self.taxonomy, self.model)
            )
        return self

    def __exit__(self, *_exc) -> None:
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()
            self.pool = None

    def tag(self, items: list[tuple[str, str, dict]]) -> Iterator[list]:
        """Chunks of tag_chunk results, in input order."""
        chunks = [items[i : i + CHUNK] for i in range(0, len(items), CHUNK)]
        if self.pool is None or len(chunks) < 2:
            _start_worker(self.taxonomy, self.model)
            yield from map(tag_chunk, chunks)
        else:
            yield from self.pool.imap(tag_chunk, chunks)


# -- reading the range --------------------------------------------------------------

_FACTS_SQL = """
with facts as (
    select event_id, 'survey' as source, interaction_id, submitted_at as event_time,
           comment as text, sentiment_score, sentiment_label, csat, payload_sha256,
           null::integer as hold_seconds, null::integer as transfers,
           null::integer as handle_seconds
    from surveys
    union all
    select event_id, 'agent_note', interaction_id, created_at, note, sentiment_score,
           sentiment_label, null, payload_sha256, hold_seconds, transfers, handle_seconds
    from agent_notes
)

select *
from facts
where event_time >= $since and ($until is null or event_time < $until)
  {skip}
order by event_id
"""

_SKIP_TAGGED = (
    "and event_id not in "
    "(select event_id from feedback_tag_candidates where tag_version = $version)"
)


def read_facts(cur, tag_range: TagRange, version: str | None = None) -> list[dict[str, Any]]:
    """The range's facts as rows (Arrow, then columns to Python); with ``version``,
    only those that version has not tagged yet."""
    params: dict[str, Any] = {"since": tag_range.since, "until": tag_range.until}
    if version is not None:
        params["version"] = version
    sql = _FACTS_SQL.format(skip=_SKIP_TAGGED if version is not None else "")
    return cur.execute(sql, params).to_arrow_table().to_pylist()


def _work_items(facts: list[dict[str, Any]]) -> list[tuple[str, str, dict]]:
    """What a worker needs per fact: its id, stored text and the note's signals."""
    return [
        (
            fact["event_id"],
            fact["text"] or "",
            {name: fact[name] for name in SIGNAL_FIELDS if fact[name] is not None}
            if fact["source"] == "agent_note"
            else {},
        )
        for fact in facts
    ]


def _current_causes(cur, tag_range: TagRange) -> dict[str, frozenset[str]]:
    rows = cur.execute(
        "select event_id, list(distinct cause_id) from feedback_tags "
        "where event_time >= $since and ($until is null or event_time < $until) "
        "group by event_id",
        {"since": tag_range.since, "until": tag_range.until},
    ).fetchall()
    return {event_id: frozenset(causes) for event_id, causes in rows}


def _connect_read_only(db_path: str) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(db_path, read_only=True)
    except duckdb.Error as error:
        raise RetagError(_one_line(error)) from None


def _one_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


# -- dry run --------------------------------------------------------------------------


def dry_run(db_path: str, tag_range: TagRange, tagger: Tagger, examples: int = 3) -> RetagDiff:
    """What a re-tag of the range would change, per cause; nothing is written (the
    file is opened read-only)."""
    con = _connect_read_only(db_path)
    try:
        facts = read_facts(con, tag_range)
        before = _current_causes(con, tag_range)
    except duckdb.CatalogException as error:
        raise RetagError(f"not a voc file: {_one_line(error)}") from None
    finally:
        con.close()
    after: dict[str, frozenset[str]] = {}
    for results in tagger.tag(_work_items(facts)):
        for event_id, causes, _changed in results:
            after[event_id] = frozenset(cause[0] for cause in causes)
    texts = {fact["event_id"]: fact["text"] or "" for fact in facts}
    return diff_causes(before, after, texts, examples)


# -- re-tag into candidates -----------------------------------------------------------


@dataclass(frozen=True)
class RetagOutcome:
    version: str
    status: str  # the version's status after this run
    tagged: int  # texts tagged by this run (0: the version had them all)
    events: int  # texts the version covers in all
    tags: int  # its tag rows in all
    redaction_changed: int  # stored texts whose redaction would differ (expected 0)
    created: bool  # this run registered the version


def retag(
    store: DuckDBStore,
    tag_range: TagRange,
    tagger: Tagger,
    now: datetime | None = None,
) -> RetagOutcome:
    """Tag the range's texts that the version does not hold yet into
    feedback_tag_candidates, WRITE_EVERY events a transaction; returns the outcome."""
    now = now or datetime.now(UTC)
    taxonomy, model = tagger.taxonomy, tagger.model
    version = version_id(taxonomy, model, tag_range)
    status, created = store.in_transaction(
        lambda cur: _register(cur, version, taxonomy, model, tag_range, now)
    )
    if status != "candidate":  # promoted or superseded: its rows are final
        return _outcome(store, version, status, 0, 0, created)
    facts = store.in_transaction(lambda cur: read_facts(cur, tag_range, version))
    by_id = {fact["event_id"]: fact for fact in facts}
    pending: list[dict[str, Any]] = []
    tagged = changed = events_pending = 0
    for results in tagger.tag(_work_items(facts)):
        for event_id, causes, redaction_changed in results:
            pending.extend(candidate_rows(by_id[event_id], causes, version, taxonomy, now))
            changed += redaction_changed
            events_pending += 1
        if events_pending >= WRITE_EVERY:
            store.in_transaction(lambda cur, batch=pending: _insert_candidates(cur, batch))
            tagged += events_pending
            pending, events_pending = [], 0
    if pending:
        store.in_transaction(lambda cur: _insert_candidates(cur, pending))
        tagged += events_pending
    return _outcome(store, version, status, tagged, changed, created)


def _register(cur, version, taxonomy, model, tag_range, now) -> tuple[str, bool]:
    row = cur.execute("select status from tag_versions where version = ?", [version]).fetchone()
    if row is not None:
        return row[0], False
    cur.execute(
        "insert into tag_versions (version, kind, taxonomy_name, taxonomy_release, "
        "taxonomy_hash, taxonomy_format, model_version, since, until, status, events, tags, "
        "created_at) values (?, 'retag', ?, ?, ?, ?, ?, ?, ?, 'candidate', 0, 0, ?)",
        [
            version,
            taxonomy.name,
            taxonomy.release,
            taxonomy.content_hash,
            taxonomy.version,
            model.version if model is not None else None,
            tag_range.since,
            tag_range.until,
            now,
        ],
    )
    return "candidate", True


def _insert_candidates(cur, rows: list[dict[str, Any]]) -> None:
    with registered(cur, rows, CANDIDATES_SCHEMA):
        cur.execute("insert or ignore into feedback_tag_candidates by name select * from voc_batch")


def _outcome(store, version, status, tagged, changed, created) -> RetagOutcome:
    def count(cur):
        events, tags = cur.execute(
            "select count(distinct event_id), count(*) from feedback_tag_candidates "
            "where tag_version = ?",
            [version],
        ).fetchone()
        if status == "candidate":
            cur.execute(
                "update tag_versions set events = ?, tags = ? where version = ?",
                [events, tags, version],
            )
        return events, tags

    events, tags = store.in_transaction(count)
    return RetagOutcome(version, status, tagged, events, tags, changed, created)


# -- promotion ------------------------------------------------------------------------


@dataclass(frozen=True)
class PromoteOutcome:
    version: str
    promotion: int  # 0: it was already the promoted version, nothing changed
    previous_version: str
    events: int
    tags_replaced: int
    tags_written: int
    derived: dict[str, int]  # derived table -> rows after the rebuild


def promote(
    store: DuckDBStore,
    version: str,
    settings: EventTimeSettings,
    now: datetime | None = None,
) -> PromoteOutcome:
    """Make ``version``'s tags what owners read, in one transaction with the rebuild
    of the derived tables; the tags it replaces become version ``previous-N``."""
    from voc.pipelines.ops.reconcile import rebuild
    from voc.transforms.sinks.duckdb_schema import create_department_schemas

    now = now or datetime.now(UTC)

    def work(cur) -> PromoteOutcome:
        found = cur.execute(
            "select kind, status, since, until from tag_versions where version = ?", [version]
        ).fetchone()
        if found is None:
            raise UnknownVersion(f"no version {version!r} in this file (voc retag --list)")
        kind, status, since, until = found
        if status == "promoted":
            return PromoteOutcome(version, 0, "", 0, 0, 0, {})
        (number,) = cur.execute(
            "select coalesce(max(promotion), 0) + 1 from tag_promotions"
        ).fetchone()
        previous = f"previous-{number}"
        source = "feedback_tag_candidates" if kind == "retag" else "feedback_tag_history"
        cur.execute(
            "create or replace temp table retag_events as select distinct event_id "
            f"from {source} where tag_version = ?",
            [version],
        )
        (events,) = cur.execute("select count(*) from retag_events").fetchone()
        columns = ", ".join(TAG_COLUMNS)
        replaced = cur.execute(
            f"insert into feedback_tag_history (tag_version, replaced_at, {columns}) "
            f"select ?, ?, {columns} from feedback_tags "
            "where event_id in (select event_id from retag_events)",
            [previous, now],
        ).fetchone()[0]
        cur.execute(
            "delete from feedback_tags where event_id in (select event_id from retag_events)"
        )
        written = cur.execute(
            f"insert into feedback_tags ({columns}) select {columns} from {source} "
            "where tag_version = ?",
            [version],
        ).fetchone()[0]
        _record(cur, version, previous, number, since, until, events, replaced, written, now)
        cur.execute("drop table retag_events")
        result = rebuild(cur, settings)
        derived = {name: len(rows) for name, rows in result.rows.items()}
        return PromoteOutcome(version, number, previous, events, replaced, written, derived)

    try:
        outcome = store.in_transaction(work)
    except duckdb.CatalogException as error:  # a file without voc's tables, or damaged
        raise RetagError(f"promotion rolled back: {_one_line(error)}") from None
    if outcome.promotion:
        # A new taxonomy may name a department no schema exists for yet.
        store.in_transaction(create_department_schemas)
    return outcome


def _record(cur, version, previous, number, since, until, events, replaced, written, now) -> None:
    """The promotion, the version's new status, and the replaced tags as a version."""
    cur.execute(
        "update tag_versions set status = 'superseded' where status = 'promoted' "
        "and since < coalesce(?::timestamptz, 'infinity') "
        "and coalesce(until, 'infinity'::timestamptz) > ?",
        [until, since],
    )
    cur.execute(
        "update tag_versions set status = 'promoted', promoted_at = ? where version = ?",
        [now, version],
    )
    release, taxonomy_hash = cur.execute(
        "select case when count(distinct taxonomy_hash) = 1 then any_value(taxonomy_release) end, "
        "case when count(distinct taxonomy_hash) = 1 then any_value(taxonomy_hash) end "
        "from feedback_tag_history where tag_version = ?",
        [previous],
    ).fetchone()
    cur.execute(
        "insert into tag_versions (version, kind, taxonomy_release, taxonomy_hash, since, "
        "until, status, events, tags, created_at) "
        "values (?, 'previous', ?, ?, ?, ?, 'superseded', ?, ?, ?)",
        [previous, release, taxonomy_hash, since, until, events, replaced, now],
    )
    cur.execute(
        "insert into tag_promotions values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [number, version, previous, since, until, events, replaced, written, now],
    )


# -- listing ----------------------------------------------------------------------------


def list_versions(db_path: str) -> list[dict[str, Any]]:
    """Every version of the file, oldest first (empty: never re-tagged)."""
    con = _connect_read_only(db_path)
    try:
        known = con.execute(
            "select count(*) from duckdb_tables() where table_name = 'tag_versions'"
        ).fetchone()[0]
        if not known:
            return []
        cursor = con.execute(
            "select version, kind, status, taxonomy_release, taxonomy_hash, model_version, "
            "since, until, events, tags, created_at, promoted_at from tag_versions "
            "order by created_at, version"
        )
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        con.close()
