"""The derived tables on a lake: MERGE INTO by each table's rule, read one row per key.

The MERGE builder is checked as text; the rest runs on a real lake (PostgreSQL
catalog from tests/postgres_cluster.py): the same derived rows written to a DuckDB
file and to the lake leave the same tables, in any order and redelivered; owners
and writers see the newest row of a derived key and the first of a fact; ``voc
lake maintain`` keeps the same rows; the facts-to-derived graph on the lake
matches a recomputation from the lake's facts.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.test_stream import TestStream

from tests.pipelines.test_parse_tag_and_store import note, streaming_options, survey
from tests.transforms.sinks.test_ducklake_store import (
    lake,  # noqa: F401 (a fixture)
    postgres_cluster,  # noqa: F401
)
from voc.pipelines.ops.lake_maintenance import maintain
from voc.pipelines.ops.reconcile import differences, prepare_start, rebuild
from voc.pipelines.parse_tag_and_store import ParseTagAndStore
from voc.transforms.derived.derive_from_facts import DeriveFromFacts
from voc.transforms.derived.settings import EventTimeSettings
from voc.transforms.records import DerivedRow
from voc.transforms.sinks.derived_tables import (
    ALERTS,
    INTERACTIONS,
    LATE_EVENTS,
    REPEATS_OF,
)
from voc.transforms.sinks.duckdb_store import DuckDBStore, close_shared_stores
from voc.transforms.sinks.ducklake_store import close_lake_stores
from voc.transforms.sinks.ducklake_views import owner_lake_connection
from voc.transforms.sinks.write_derived import WriteDerived, merge_statement, write_derived_rows
from voc.transforms.sinks.write_duckdb import WriteToDuckDB

T0 = datetime(2026, 1, 5, 10, tzinfo=UTC)
SETTINGS = EventTimeSettings(state_shards=3)
BILLING = "I was charged twice for the same invoice and nobody fixed it."


# -- the statement (pure) ----------------------------------------------------------


def test_merge_reuses_the_tables_newer_rule_and_inserts_unknown_keys_by_name():
    statement = merge_statement(ALERTS)
    assert statement.startswith(
        "merge into alerts as alerts using voc_batch as excluded "
        "on (alerts.alert_id = excluded.alert_id) when matched and ("
    )
    assert f"({ALERTS.newer}) then update set department = excluded.department," in statement
    assert "alert_id = excluded.alert_id," not in statement  # the key is never assigned
    assert statement.endswith(
        "updated_at = excluded.updated_at when not matched then insert by name"
    )


def test_a_table_that_keeps_its_first_row_merges_without_an_update():
    assert merge_statement(LATE_EVENTS) == (
        "merge into late_events as late_events using voc_batch as excluded "
        "on (late_events.event_id = excluded.event_id) when not matched then insert by name"
    )


# -- on a lake -------------------------------------------------------------------


def _interaction(interaction_id: str, notes: list[str], survey_id: str | None, minute: int):
    row = {name: None for name in INTERACTIONS.schema.names}
    row.update(
        interaction_id=interaction_id,
        channel="chat",
        first_event_at=T0,
        last_event_at=T0 + timedelta(minutes=minute),
        survey_event_id=survey_id,
        note_event_ids=notes,
        causes=[],
        departments=[],
        cause_sources="[]",
        complete=survey_id is not None and bool(notes),
        updated_at=T0 + timedelta(minutes=minute),
    )
    return DerivedRow("interactions", row)


def _late(event_id: str, minute: int) -> DerivedRow:
    row = {name: None for name in LATE_EVENTS.schema.names}
    row.update(
        event_id=event_id,
        event_type="survey",
        event_time=T0,
        window_start=T0,
        watermark=T0 + timedelta(hours=2),
        lateness_seconds=60.0,
        reason="window closed",
        detected_at=T0 + timedelta(minutes=minute),
    )
    return DerivedRow("late_events", row)


BATCHES = [
    [_interaction("A", ["n1"], None, 1), _late("late-1", 1)],
    [_interaction("A", ["n1"], "s1", 2), _interaction("B", [], "s2", 2)],
    # An older state of A arrives last (another bundle, committed later): refused.
    [_interaction("A", [], "s1", 3), _late("late-1", 9)],
    [DerivedRow(REPEATS_OF, {"interaction_id": "B"})],
]
COMPARED = (
    "select interaction_id, survey_event_id, note_event_ids, complete, resolved_first_contact "
    "from interactions order by 1",
    "select event_id, detected_at from late_events order by 1",
)


def test_the_lake_keeps_what_the_file_keeps_in_any_order_and_redelivered(lake, tmp_path):  # noqa: F811
    file_store = DuckDBStore(str(tmp_path / "voc.duckdb"))
    file_store.open()
    for batch in BATCHES:
        file_store.in_transaction(lambda cur, b=batch: write_derived_rows(cur, b))
        lake.in_transaction(lambda cur, b=batch: write_derived_rows(cur, b))
    for batch in reversed(BATCHES):  # every bundle again, the other way round
        lake.in_transaction(lambda cur, b=batch: write_derived_rows(cur, b))
    expected = [
        file_store.in_transaction(lambda cur, q=q: cur.execute(q).fetchall()) for q in COMPARED
    ]
    file_store.close()
    assert expected[0][0][:3] == ("A", "s1", ["n1"])
    assert [lake.in_transaction(lambda cur, q=q: cur.execute(q).fetchall()) for q in COMPARED] == (
        expected
    )


def test_owners_and_maintain_keep_the_newest_derived_row_and_the_first_late_event(lake):  # noqa: F811
    # Two writers that both inserted a new key (no keys in a lake): both rows stored.
    for minute in (5, 7, 6):
        row = _interaction("C", ["n9"], "s9", minute).row
        lake.in_transaction(
            lambda cur, r=row: cur.execute(
                "insert into interactions (interaction_id, channel, first_event_at, "
                "last_event_at, note_event_ids, causes, departments, cause_sources, complete, "
                "updated_at) values (?, ?, ?, ?, ?, [], [], '[]', ?, ?)",
                [r["interaction_id"], r["channel"], r["first_event_at"], r["last_event_at"],
                 r["note_event_ids"], r["complete"], r["updated_at"]],
            )
        )  # fmt: skip
    for minute in (4, 2):
        row = _late("late-2", minute).row
        lake.in_transaction(
            lambda cur, r=row: cur.execute(
                "insert into late_events (event_id, event_type, event_time, window_start, "
                "watermark, lateness_seconds, reason, detected_at) values (?,?,?,?,?,?,?,?)",
                [r[c] for c in ("event_id", "event_type", "event_time", "window_start",
                                "watermark", "lateness_seconds", "reason", "detected_at")],
            )
        )  # fmt: skip
    query = (
        "select (select list(updated_at) from interactions where interaction_id = 'C'), "
        "(select list(detected_at) from late_events where event_id = 'late-2')"
    )
    with owner_lake_connection(lake.spec) as owner:
        assert owner.execute(query).fetchone() == (
            [T0 + timedelta(minutes=7)],
            [T0 + timedelta(minutes=2)],
        )
    report = maintain(lake.spec)
    assert report.duplicates_removed["interactions"] == 2
    assert report.duplicates_removed["late_events"] == 1
    stored = lake.in_transaction(lambda cur: cur.execute(query).fetchone())
    assert stored == ([T0 + timedelta(minutes=7)], [T0 + timedelta(minutes=2)])


def test_the_graph_on_a_lake_matches_a_recomputation_and_a_restart_prepares_from_it(lake):  # noqa: F811
    first = [
        note("A", "na", created_at="2026-01-05T09:55:00Z"),
        survey("A", "sa", comment=BILLING, customer_id="c-1"),
        survey("B", "sb", comment=BILLING, customer_id="c-1", submitted_at="2026-01-07T10:00:00Z"),
    ]
    stream = (
        TestStream()
        .advance_watermark_to(datetime(2026, 1, 5, 9, tzinfo=UTC).timestamp())
        .add_elements(first)
        .advance_watermark_to(datetime(2026, 1, 5, 11, 30, tzinfo=UTC).timestamp())
        .add_elements([*first, note("B", "nb", created_at="2026-01-07T10:05:00Z")])
        .advance_watermark_to(datetime(2026, 3, 1, tzinfo=UTC).timestamp())
        .advance_watermark_to_infinity()
    )
    unused = "/nonexistent/voc.duckdb"  # the lake takes every write
    with TestPipeline(options=streaming_options()) as p:
        stored = (p | stream | ParseTagAndStore(WriteToDuckDB(unused, lake=lake.spec)))["stored"]
        derived = stored | DeriveFromFacts(SETTINGS)
        derived["rows"] | WriteDerived(unused, lake.spec)
    close_shared_stores()
    close_lake_stores()

    with owner_lake_connection(lake.spec) as owner:
        rows = owner.execute(
            "select interaction_id, survey_event_id, note_event_ids, resolved_first_contact "
            "from interactions order by 1"
        ).fetchall()
        assert rows == [("A", "sa", ["na"], False), ("B", "sb", ["nb"], True)]
        assert owner.execute("select count(*) from surveys where joined").fetchone() == (2,)
        assert owner.execute("select count(*) from issue_rollups").fetchone()[0] > 0
    assert lake.in_transaction(lambda cur: differences(cur, SETTINGS)) == []
    # A fact stored twice (two writers at once) is counted once by a recomputation.
    lake.in_transaction(
        lambda cur: cur.execute("insert into surveys select * from surveys where event_id = 'sa'")
    )
    assert lake.in_transaction(lambda cur: differences(cur, SETTINGS)) == []
    recomputed = lake.in_transaction(lambda cur: rebuild(cur, SETTINGS))
    assert recomputed.facts == 4
    assert lake.in_transaction(lambda cur: differences(cur, SETTINGS)) == []
    since, _ = prepare_start(lake, SETTINGS)
    assert since < datetime(2026, 1, 7, 10, tzinfo=UTC)
