"""Read facts back from the tables as the StoredFact records the stream derives from.

The reconciliation recomputes the derived tables from these, and a starting job
replays the recent ones into its stateful branches (the DirectRunner keeps state
in memory, so a restart begins empty). Both must see exactly what the fact sink
emitted when it stored them: :func:`voc.transforms.records.stored_fact` and this
reader are the two halves of that contract, and a test holds them together.

On a lake (a ``DuckLakeStore`` transaction's cursor) a key two workers stored at
once has two rows; these reads go through the owners' one-row-per-key rule
(:func:`voc.transforms.sinks.ducklake_views.read_deduplicated`), so a fact is
never counted twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import apache_beam as beam
from apache_beam.utils.timestamp import Timestamp

from voc.transforms.derived.cause_alerts import CauseHistory
from voc.transforms.records import StoredCause, StoredFact
from voc.transforms.sinks.ducklake_catalog import LakeSpec
from voc.transforms.sinks.ducklake_views import read_deduplicated
from voc.transforms.sources.source_watermark import epoch_micros

# Facts of both tables in one shape, with their causes as a list of structs.
_FACTS_SQL = """
with tags as (
    select event_id,
           list(struct_pack(c := cause_id, s := coalesce(sub_cause_id, ''),
                            d := department, e := evidence) order by cause_id) as causes
    from feedback_tags
    group by event_id
),

facts as (
    select event_id, 'survey' as event_type, interaction_id, channel,
           submitted_at as event_time, sentiment_score, sentiment_label, comment as text,
           customer_id, csat, nps, ces, resolved,
           null::integer as handle_seconds, null::integer as hold_seconds,
           null::integer as transfers, joined, ingested_at
    from surveys
    union all
    select event_id, 'agent_note', interaction_id, channel, created_at, sentiment_score,
           sentiment_label, note, null, null, null, null, null,
           handle_seconds, hold_seconds, transfers, joined, ingested_at
    from agent_notes
)

select f.* exclude (ingested_at), t.causes
from facts as f
left join tags as t using (event_id)
where f.event_time >= ? and f.ingested_at < ?
order by f.event_time, f.event_id
"""


def read_stored_facts(cur, since: datetime, stored_before: datetime) -> Iterator[StoredFact]:
    """Facts whose event time is at or after ``since`` and that were stored before
    ``stored_before``, in event-time order."""
    read_deduplicated(cur, ("surveys", "agent_notes", "feedback_tags"))
    result = cur.execute(_FACTS_SQL, [since, stored_before])
    columns = [d[0] for d in result.description]
    while rows := result.fetchmany(10_000):
        for values in rows:
            row = dict(zip(columns, values, strict=True))
            causes = tuple(
                StoredCause(c["c"], c["s"], c["d"], c["e"]) for c in (row.pop("causes") or ())
            )
            yield StoredFact(**row, causes=causes)


# Weeks of closed windows an alert baseline is rebuilt from (the seasonal baseline
# keeps four, spike_alerts.AlertRule.seasonal_weeks, plus one of margin).
HISTORY_WEEKS = 5

_HISTORY_SQL = """
with windows as (
    select department, cause_id, window_start, sum(interactions) as contacts
    from issue_rollups
    where level = 'cause' and final and window_start < ? and window_start >= ?
    group by all
),

open_examples as (
    select department, cause_id, any_value(examples) as examples
    from alerts
    where status = 'open'
    group by all
)

select w.department, w.cause_id,
       list((epoch(w.window_start), w.contacts) order by w.window_start) as series,
       coalesce(any_value(o.examples), '') as open_examples
from windows as w
left join open_examples as o using (department, cause_id)
group by all
order by all
"""


def read_cause_history(cur, before: datetime) -> list[CauseHistory]:
    """Each cause's closed windows in the weeks before ``before``: what a restarted
    job's alert baselines are rebuilt from (the facts replayed after it do the rest)."""
    read_deduplicated(cur, ("issue_rollups", "alerts"))
    rows = cur.execute(_HISTORY_SQL, [before, before - timedelta(weeks=HISTORY_WEEKS)]).fetchall()
    return [
        CauseHistory(department, cause_id, tuple((float(t), int(v)) for t, v in series), examples)
        for department, cause_id, series, examples in rows
    ]


def newest_event_time(cur) -> datetime | None:
    return cur.execute(
        "select max(t) from (select max(submitted_at) as t from surveys"
        " union all select max(created_at) from agent_notes)"
    ).fetchone()[0]


class ReplayStoredFacts(beam.PTransform):
    """The facts stored before this job started, replayed at their event times, after
    each cause's alert history (CauseHistory) from the rollups before them."""

    def __init__(
        self,
        db_path: str,
        since: datetime,
        stored_before: datetime,
        lake: LakeSpec | None = None,
    ) -> None:
        super().__init__()
        self.db_path = db_path
        self.since = since
        self.stored_before = stored_before
        self.lake = lake

    def expand(self, pbegin):
        db_path, since, before, lake = self.db_path, self.since, self.stored_before, self.lake

        def replay(_):
            from voc.transforms.sinks.duckdb_store import shared_store
            from voc.transforms.sinks.ducklake_store import shared_lake_store

            store = shared_lake_store(lake) if lake else shared_store(db_path)
            history, facts = store.in_transaction(
                lambda cur: (
                    read_cause_history(cur, since),
                    list(read_stored_facts(cur, since, before)),
                )
            )
            # Held at the start of the history, so no window closes before it is learned.
            oldest = Timestamp(micros=epoch_micros(since - timedelta(weeks=HISTORY_WEEKS)))
            for cause in history:
                yield beam.window.TimestampedValue(cause, oldest)
            for fact in facts:
                yield beam.window.TimestampedValue(
                    fact, Timestamp(micros=epoch_micros(fact.event_time))
                )

        return pbegin | "Impulse" >> beam.Impulse() | "ReadFacts" >> beam.FlatMap(replay)
