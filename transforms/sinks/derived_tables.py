"""The tables the derived branches write, and the rule each is written by.

Unlike the fact tables, every row here is recomputable from the facts, so the
rules only have to make the result independent of how often and in which order
rows arrive (the runner may retry a bundle, and two bundles of one derived
PCollection may commit in either order):

- upserts keep the newest state of a key, and refuse a row that is older than
  the stored one by the table's ``newer`` condition (an interaction with fewer
  parts, a rollup with less volume, an alert evaluated on an earlier window);
- ``late_events`` keeps its first row;
- ``repeat_contacts`` rows of an interaction are replaced with the pairs sent with
  a ``repeats_of`` marker (a contact's start or causes can change as parts arrive);
- ``part_joined`` is not a table: it sets ``joined`` on the fact of each part.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

_TS = pa.timestamp("us", tz="UTC")


@dataclass(frozen=True)
class DerivedTable:
    name: str
    schema: pa.Schema
    key: tuple[str, ...]
    # SQL over the stored row (the table's name) and ``excluded``: true when the
    # incoming row may replace the stored one. None: a known key keeps its row.
    newer: str | None


INTERACTIONS = DerivedTable(
    "interactions",
    pa.schema(
        [
            ("interaction_id", pa.string()),
            ("channel", pa.string()),
            ("first_event_at", _TS),
            ("last_event_at", _TS),
            ("survey_event_id", pa.string()),
            ("note_event_ids", pa.list_(pa.string())),
            ("submitted_at", _TS),
            ("csat", pa.int8()),
            ("nps", pa.int8()),
            ("customer_effort", pa.int8()),
            ("resolved", pa.bool_()),
            ("handle_seconds", pa.int32()),
            ("hold_seconds", pa.int32()),
            ("transfers", pa.int32()),
            ("causes", pa.list_(pa.string())),
            ("departments", pa.list_(pa.string())),
            ("cause_sources", pa.string()),
            ("sentiment_score", pa.float64()),
            ("sentiment_label", pa.string()),
            ("complete", pa.bool_()),
            ("updated_at", _TS),
        ]
    ),
    ("interaction_id",),
    # A row made from more parts is newer; with as many, the later one.
    "len(excluded.note_event_ids) + (excluded.survey_event_id is not null)::int"
    " >= len(interactions.note_event_ids) + (interactions.survey_event_id is not null)::int",
)

_COUNT = pa.int32()
ISSUE_ROLLUPS = DerivedTable(
    "issue_rollups",
    pa.schema(
        [
            ("window_start", _TS),
            ("window_end", _TS),
            ("department", pa.string()),
            ("cause_id", pa.string()),
            ("sub_cause_id", pa.string()),
            ("level", pa.string()),
            ("channel", pa.string()),
            *(
                (name, _COUNT)
                for name in (
                    "volume",
                    "interactions",
                    "surveys",
                    "scored",
                    "negative",
                    "csat_sum",
                    "csat_count",
                    "promoters",
                    "detractors",
                    "nps_count",
                    "effort_sum",
                    "effort_count",
                )
            ),
            ("share_negative", pa.float64()),
            ("mean_csat", pa.float64()),
            ("nps", pa.float64()),
            ("mean_effort", pa.float64()),
            ("top_phrases", pa.string()),
            ("final", pa.bool_()),
            ("updated_at", _TS),
        ]
    ),
    ("window_start", "department", "cause_id", "sub_cause_id", "channel"),
    # Volume only grows within a window; a final row is never replaced by a
    # provisional one of the same volume.
    "excluded.volume > issue_rollups.volume or (excluded.volume = issue_rollups.volume"
    " and (excluded.final or not issue_rollups.final))",
)

LATE_EVENTS = DerivedTable(
    "late_events",
    pa.schema(
        [
            ("event_id", pa.string()),
            ("event_type", pa.string()),
            ("event_time", _TS),
            ("window_start", _TS),
            ("watermark", _TS),
            ("lateness_seconds", pa.float64()),
            ("reason", pa.string()),
            ("detected_at", _TS),
            ("folded_at", _TS),
        ]
    ),
    ("event_id",),
    None,
)

ALERTS = DerivedTable(
    "alerts",
    pa.schema(
        [
            ("alert_id", pa.string()),
            ("department", pa.string()),
            ("cause_id", pa.string()),
            ("status", pa.string()),
            ("opened_window_start", _TS),
            ("last_window_start", _TS),
            ("closed_window_start", _TS),
            ("observed", pa.int32()),
            ("expected", pa.float64()),
            ("score", pa.float64()),
            ("peak_observed", pa.int32()),
            ("peak_score", pa.float64()),
            ("method", pa.string()),
            ("examples", pa.string()),
            ("updated_at", _TS),
        ]
    ),
    ("alert_id",),
    "excluded.last_window_start > alerts.last_window_start"
    " or (excluded.last_window_start = alerts.last_window_start"
    " and (excluded.status = 'closed' or alerts.status = 'open'))",
)

REPEAT_CONTACTS = DerivedTable(
    "repeat_contacts",
    pa.schema(
        [
            ("earlier_interaction_id", pa.string()),
            ("later_interaction_id", pa.string()),
            ("cause_id", pa.string()),
            ("department", pa.string()),
            ("channel", pa.string()),
            ("earlier_at", _TS),
            ("later_at", _TS),
            ("gap_hours", pa.float64()),
            ("detected_at", _TS),
        ]
    ),
    ("earlier_interaction_id", "later_interaction_id", "cause_id"),
    "true",
)

PIPELINE_PROGRESS = DerivedTable(
    "pipeline_progress",
    pa.schema(
        [
            ("branch", pa.string()),
            ("shard", pa.int32()),
            ("watermark", _TS),
            ("observed_at", _TS),
            ("open_keys", pa.int64()),
            ("state_bytes", pa.int64()),
        ]
    ),
    ("branch", "shard"),
    "excluded.watermark >= pipeline_progress.watermark",
)

DERIVED_TABLES: dict[str, DerivedTable] = {
    table.name: table
    for table in (
        INTERACTIONS,
        ISSUE_ROLLUPS,
        LATE_EVENTS,
        ALERTS,
        REPEAT_CONTACTS,
        PIPELINE_PROGRESS,
    )
}
# Not a table: sets surveys.joined / agent_notes.joined of each part's fact.
PART_JOINED = "part_joined"
# Not a table: the repeat_contacts rows of an interaction are replaced by the pairs
# that come with it (a contact's start or causes changed).
REPEATS_OF = "repeats_of"
