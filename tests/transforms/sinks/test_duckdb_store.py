"""The DuckDB sink on real files: batching, idempotence on event_id, dead letters."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import duckdb
import pytest

from tests.transforms.helpers import message, note_payload, survey_payload
from voc.sql import migrations
from voc.transforms.parse_event import parse_message
from voc.transforms.records import (
    CauseMatch,
    Evidence,
    InvalidMessage,
    SentimentScore,
    TaggedEvent,
    to_dead_letter,
)
from voc.transforms.sinks.duckdb_schema import apply_migrations, create_views
from voc.transforms.sinks.duckdb_store import DuckDBStore, build_batch

NOW = datetime(2026, 1, 5, 12, tzinfo=UTC)


def tagged(payload, event_type="survey", causes=(("product_defect", "product"),)) -> TaggedEvent:
    event = parse_message(message(payload, event_type=event_type))
    text = payload.get("comment", payload.get("note", ""))
    return TaggedEvent(
        event=event,
        text=text,
        sentiment=SentimentScore(-0.6, "negative"),
        causes=tuple(CauseMatch(c, d, "evidence") for c, d in causes),
        taxonomy_version=1,
        redactions=0,
    )


def dead(data: bytes, message_id: str):
    raw = message(data, message_id=message_id)
    return to_dead_letter(raw, "parse", InvalidMessage("invalid_json", "payload is not JSON"))


@pytest.fixture
def store(tmp_path):
    opened = DuckDBStore(str(tmp_path / "voc.duckdb"))
    opened.open()
    yield opened
    opened.close()


def rows(store: DuckDBStore, sql: str):
    return store.con.execute(sql).fetchall()


def test_migrations_are_applied_once(tmp_path):
    con = duckdb.connect(str(tmp_path / "m.duckdb"))
    assert apply_migrations(con) == [name for _, name, _ in migrations()]
    assert apply_migrations(con) == []
    tables = {
        r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()
    }
    assert {"surveys", "agent_notes", "feedback_tags", "dead_letters"} <= tables


def test_one_batch_writes_facts_tags_and_dead_letters(store):
    batch = build_batch(
        [
            tagged(
                survey_payload(),
                causes=[("product_defect", "product"), ("long_hold", "support_ops")],
            ),
            tagged(note_payload(), event_type="agent_note", causes=[("billing_error", "billing")]),
            dead(b"{oops", "m-1"),
        ],
        now=NOW,
    )
    result = store.write(batch)
    assert (
        result["surveys"],
        result["agent_notes"],
        result["feedback_tags"],
        result["dead_letters"],
    ) == (
        1,
        1,
        3,
        1,
    )
    assert rows(store, "select event_id, csat, resolved, sentiment_label from surveys") == [
        ("s-1", 2, False, "negative")
    ]
    assert rows(store, "select hold_seconds, transfers from agent_notes") == [(720, 2)]
    assert rows(
        store, "select event_id, cause_id, department from feedback_tags order by 1, 2"
    ) == [
        ("n-1", "billing_error", "billing"),
        ("s-1", "long_hold", "support_ops"),
        ("s-1", "product_defect", "product"),
    ]
    # One row per (event, department) is marked, and the survey's CSAT rides on its tags.
    assert rows(
        store,
        "select event_id, cause_id, first_for_department, csat from feedback_tags order by 1, 2",
    ) == [
        ("n-1", "billing_error", True, None),
        ("s-1", "long_hold", True, 2),
        ("s-1", "product_defect", True, 2),
    ]
    assert rows(store, "select data, reason, attributes->>'event_type' from dead_letters") == [
        (b"{oops", "invalid_json", "survey")
    ]


def test_first_for_department_marks_one_row_per_event_and_department(store):
    causes = [
        ("billing_error", "billing"),
        ("refund_delay", "billing"),
        ("long_hold", "support_ops"),
    ]
    store.write(build_batch([tagged(survey_payload(), causes=causes)], now=NOW))
    assert rows(
        store,
        "select department, count(*) filter (where first_for_department) from feedback_tags "
        "group by 1 order by 1",
    ) == [("billing", 1), ("support_ops", 1)]


def file_migrated_through(path, last: int) -> duckdb.DuckDBPyConnection:
    """A file as an older release left it: migrations up to ``last``, one survey stored."""
    con = duckdb.connect(str(path))
    con.execute(
        "create table schema_migrations ("
        " version integer primary key, name varchar not null, applied_at timestamptz not null)"
    )
    for version, name, sql in migrations()[:last]:
        con.execute(sql)
        con.execute("insert into schema_migrations values (?, ?, now())", [version, name])
    # Views are not created: today's read tables of later migrations (an older
    # release had its own; 002 still creates the old query-time interactions view).
    con.execute(
        "insert into surveys values ('s-1', 'i-1', 'c', 'chat', now(), 4, 9, 2, true, 'x', 'en',"
        " 0.5, 'positive', 1, null, null, now())"
    )
    return con


def test_migration_003_backfills_rows_written_before_it(tmp_path):
    # A file as migrations 001-002 left it, with tags written by an older sink.
    con = file_migrated_through(tmp_path / "old.duckdb", 2)
    for cause, department in [("a", "billing"), ("b", "billing"), ("c", "product")]:
        con.execute(
            "insert into feedback_tags values ('s-1', 'survey', 'i-1', now(), ?, ?, '', 0.5,"
            " 'positive', 1, now())",
            [cause, department],
        )
    assert apply_migrations(con)[0] == "003_tags_department_columns.sql"
    assert con.execute(
        "select cause_id, first_for_department, csat from feedback_tags order by 1"
    ).fetchall() == [("a", True, 4), ("b", False, 4), ("c", True, 4)]


def test_redelivery_adds_nothing_even_with_other_tags(store):
    store.write(build_batch([tagged(survey_payload())], now=NOW))
    # The same event again, tagged differently (say the taxonomy changed in between).
    again = build_batch([tagged(survey_payload(), causes=[("billing_error", "billing")])], now=NOW)
    result = store.write(again)
    assert (result["surveys"], result["feedback_tags"]) == (0, 0)
    assert rows(store, "select cause_id from feedback_tags") == [("product_defect",)]


def test_duplicates_inside_one_batch_make_one_row(store):
    result = store.write(build_batch([tagged(survey_payload())] * 3 + [dead(b"x", "m-9")] * 2))
    assert (result["surveys"], result["feedback_tags"], result["dead_letters"]) == (1, 1, 1)


def test_a_failed_batch_leaves_nothing_behind(store):
    good = tagged(survey_payload(event_id="ok"))
    batch = build_batch([good], now=NOW)
    batch.rows["agent_notes"].append({"event_id": None})  # violates NOT NULL inside the transaction
    with pytest.raises(duckdb.Error):
        store.write(batch)
    assert rows(store, "select count(*) from surveys") == [(0,)]
    assert rows(store, "select count(*) from feedback_tags") == [(0,)]
    # The store is still usable afterwards.
    assert store.write(build_batch([good], now=NOW))["surveys"] == 1


def test_large_batches(store):
    events = [
        tagged(survey_payload(event_id=f"s-{i}", interaction_id=f"i-{i}")) for i in range(3000)
    ]
    result = store.write(build_batch(events, now=NOW))
    assert result["surveys"] == 3000
    assert rows(store, "select count(distinct event_id) from feedback_tags") == [(3000,)]


def test_interactions_view_keeps_the_latest_survey_and_note(store):
    store.write(
        build_batch(
            [
                tagged(survey_payload(event_id="s-old", submitted_at="2026-01-05T10:00:00Z")),
                tagged(survey_payload(event_id="s-new", submitted_at="2026-01-05T11:00:00Z")),
                tagged(note_payload(event_id="n-1"), event_type="agent_note"),
                tagged(survey_payload(event_id="s-2", interaction_id="i-2")),
                tagged(note_payload(event_id="n-3", interaction_id="i-3"), event_type="agent_note"),
            ],
            now=NOW,
        )
    )
    assert rows(
        store,
        "select interaction_id, survey_event_id, note_event_id, complete "
        "from interaction_parts order by 1",
    ) == [
        ("i-1", "s-new", "n-1", True),
        ("i-2", "s-2", None, False),
        ("i-3", None, "n-3", False),
    ]


def test_survey_v2_product_area_is_stored_and_v1_leaves_it_null(store):
    def survey(event_id: str, schema_version: str, **fields) -> TaggedEvent:
        payload = survey_payload(event_id=event_id, interaction_id=f"i-{event_id}", **fields)
        event = parse_message(message(payload, schema_version=schema_version))
        return TaggedEvent(
            event=event,
            text=payload["comment"],
            sentiment=SentimentScore(-0.6, "negative"),
            causes=(),
            taxonomy_version=1,
            redactions=0,
        )

    batch = build_batch(
        [
            survey("s-v2", "2", product_area="billing_portal"),
            survey("s-v2-unknown", "2"),
            survey("s-v1", "1"),
        ],
        now=NOW,
    )
    assert store.write(batch)["surveys"] == 3
    assert rows(store, "select event_id, schema_version, product_area from surveys order by 1") == [
        ("s-v1", 1, None),
        ("s-v2", 2, "billing_portal"),
        ("s-v2-unknown", 2, None),
    ]
    # Per interaction, through the view's survey_event_id.
    assert rows(
        store,
        "select i.interaction_id, s.product_area from interaction_parts i "
        "join surveys s on s.event_id = i.survey_event_id order by 1",
    ) == [("i-s-v1", None), ("i-s-v2", "billing_portal"), ("i-s-v2-unknown", None)]


def test_migration_004_adds_product_area_to_a_file_with_surveys(tmp_path):
    con = file_migrated_through(tmp_path / "before_v2.duckdb", 3)
    assert apply_migrations(con)[0] == "004_survey_product_area.sql"
    assert con.execute("select event_id, product_area from surveys").fetchall() == [("s-1", None)]
    # The views over the widened table read the older row.
    create_views(con)
    assert con.execute("select survey_event_id from interaction_parts").fetchall() == [("s-1",)]


def conflict_rows(store):
    return rows(
        store,
        "select stage, reason, message_id from dead_letters "
        "where reason = 'conflicting_duplicate' order by message_id",
    )


def tagged_from(payload, message_id, event_type="survey", causes=(("product_defect", "product"),)):
    event = parse_message(message(payload, event_type=event_type, message_id=message_id))
    return TaggedEvent(
        event=event,
        text=payload.get("comment", payload.get("note", "")),
        sentiment=SentimentScore(-0.6, "negative"),
        causes=tuple(CauseMatch(c, d, "evidence") for c, d in causes),
        taxonomy_version=1,
        redactions=0,
    )


@pytest.mark.parametrize("same_batch", [False, True], ids=["later batch", "same batch"])
def test_a_reused_event_id_with_other_content_is_a_dead_letter(store, same_batch):
    first = tagged_from(survey_payload(comment="The app crashes."), "m-1")
    other = tagged_from(
        survey_payload(comment="Billed twice.", csat=1),
        "m-2",
        causes=[("billing_error", "billing")],
    )
    if same_batch:
        result = store.write(build_batch([first, other], now=NOW))
    else:
        store.write(build_batch([first], now=NOW))
        result = store.write(build_batch([other], now=NOW))
    assert result["dead_letters"] == 1
    assert rows(store, "select event_id, comment from surveys") == [("s-1", "The app crashes.")]
    assert rows(store, "select cause_id from feedback_tags") == [("product_defect",)]
    assert conflict_rows(store) == [("store", "conflicting_duplicate", "m-2")]
    [(error, data)] = rows(store, "select error, data from dead_letters")
    assert "already belongs to a row of surveys (message m-1" in error
    assert error.count("sha256") == 2 and bytes(data) == other.event.message.data


def test_a_survey_and_a_note_cannot_share_an_event_id(store):
    survey = tagged_from(survey_payload(event_id="x-1"), "m-s")
    note = tagged_from(
        note_payload(event_id="x-1"), "m-n", event_type="agent_note", causes=[("long_hold", "ops")]
    )
    store.write(build_batch([survey, note], now=NOW))
    assert rows(store, "select count(*) from agent_notes") == [(0,)]
    assert rows(store, "select source, cause_id from feedback_tags") == [
        ("survey", "product_defect")
    ]
    assert conflict_rows(store) == [("store", "conflicting_duplicate", "m-n")]


def test_the_same_content_again_is_silent_and_a_conflict_again_is_one_dead_letter(store):
    first = tagged_from(survey_payload(), "m-1")
    again = tagged_from(survey_payload(), "m-1b")  # re-published, same content
    other = tagged_from(survey_payload(comment="Something else."), "m-2")
    store.write(build_batch([first, again], now=NOW))
    assert rows(store, "select count(*) from dead_letters") == [(0,)]
    store.write(build_batch([other, other], now=NOW))
    store.write(build_batch([other], now=NOW))  # redelivered later
    assert conflict_rows(store) == [("store", "conflicting_duplicate", "m-2")]


def test_rows_stored_before_hashes_were_kept_take_redeliveries_silently(tmp_path):
    # s-1 stored by an older release; opening the store adds the hash column, empty for it.
    file_migrated_through(tmp_path / "old.duckdb", 3).close()
    store = DuckDBStore(str(tmp_path / "old.duckdb"))
    store.open()
    result = store.write(build_batch([tagged_from(survey_payload(), "m-1")], now=NOW))
    assert (result["surveys"], result["dead_letters"]) == (0, 0)
    store.close()


def test_tags_store_their_evidence_sub_cause_and_taxonomy(store):
    event = parse_message(message(survey_payload()))
    spans = (
        Evidence("charged_twice/phrase/1", 6, 19, 0.9, "charged twice"),
        Evidence("billing_error/near/1", 0, 19, 0.8, "I was charged twice"),
    )
    record = TaggedEvent(
        event=event,
        text="I was charged twice",
        sentiment=SentimentScore(-0.6, "negative"),
        causes=(
            CauseMatch("billing_error", "billing", "charged twice", "charged_twice", 0.98, spans),
            CauseMatch(
                "long_hold",
                "support_ops",
                "hold_seconds=900",
                "",
                0.95,
                (Evidence("long_hold/signal/hold_seconds_gte", -1, -1, 0.95, "hold_seconds=900"),),
            ),
        ),
        taxonomy_version=2,
        redactions=0,
        taxonomy_release="1.0.0",
        taxonomy_hash="0123456789ab",
    )
    store.write(build_batch([record], now=NOW))
    assert rows(
        store,
        "select cause_id, sub_cause_id, rule_id, evidence_start, evidence_end, confidence,"
        " taxonomy_release, taxonomy_hash from feedback_tags order by cause_id",
    ) == [
        (
            "billing_error",
            "charged_twice",
            "charged_twice/phrase/1",
            6,
            19,
            0.98,
            "1.0.0",
            "0123456789ab",
        ),
        # a note's number is not in the text: no offsets
        (
            "long_hold",
            None,
            "long_hold/signal/hold_seconds_gte",
            None,
            None,
            0.95,
            "1.0.0",
            "0123456789ab",
        ),
    ]
    (spans_json,) = rows(
        store, "select evidence_spans from feedback_tags where cause_id = 'billing_error'"
    )[0]
    assert json.loads(spans_json) == [
        {"rule": "charged_twice/phrase/1", "start": 6, "end": 19, "confidence": 0.9},
        {"rule": "billing_error/near/1", "start": 0, "end": 19, "confidence": 0.8},
    ]


def test_migration_007_keeps_older_tags_with_empty_evidence_columns(tmp_path):
    con = file_migrated_through(tmp_path / "old.duckdb", 3)
    for version, name, sql in migrations()[3:6]:  # 004-006, as the last release left it
        con.execute(sql)
        con.execute("insert into schema_migrations values (?, ?, now())", [version, name])
    con.execute(
        "insert into feedback_tags (event_id, source, interaction_id, event_time, cause_id,"
        " department, evidence, sentiment_score, sentiment_label, taxonomy_version, tagged_at)"
        " values ('s-1', 'survey', 'i-1', now(), 'billing_error', 'billing', 'charged twice',"
        " -0.5, 'negative', 1, now())"
    )
    assert apply_migrations(con)[:2] == [
        "007_tag_evidence_and_sub_causes.sql",
        "008_sentiment_detail_and_experience.sql",
    ]
    assert con.execute(
        "select cause_id, evidence, rule_id, sub_cause_id, confidence, taxonomy_hash,"
        " sentiment_score, evidence_sentiment, model_version from feedback_tags"
    ).fetchall() == [("billing_error", "charged twice", None, None, None, None, -0.5, None, None)]


def test_migration_008_lets_unscored_text_store_no_score(tmp_path):
    con = file_migrated_through(tmp_path / "old.duckdb", 3)  # stores survey s-1
    for version, name, sql in migrations()[3:7]:  # 004-007, as the last release left it
        con.execute(sql)
        con.execute("insert into schema_migrations values (?, ?, now())", [version, name])
    assert apply_migrations(con)[:2] == [
        "008_sentiment_detail_and_experience.sql",
        "009_event_time_derived_tables.sql",
    ]
    con.execute(
        "insert into surveys (event_id, interaction_id, customer_id, channel, submitted_at,"
        " resolved, comment, language, sentiment_score, sentiment_label, schema_version,"
        " ingested_at, detected_language) values ('s-2', 'i-2', 'c-2', 'web', now(), true,"
        " 'muy lento', 'es', null, 'unscored', 1, now(), 'es')"
    )
    rows = con.execute(
        "select event_id, sentiment_score is null, sentiment_label, experience_score,"
        " detected_language from surveys order by event_id"
    ).fetchall()
    assert rows[1] == ("s-2", True, "unscored", None, "es")
    assert rows[0][0] == "s-1" and rows[0][1] is False and rows[0][3:] == (None, None)


def test_agent_note_v2_customer_is_stored_and_v1_leaves_it_null(store):
    def note(event_id: str, schema_version: str, **fields) -> TaggedEvent:
        payload = note_payload(event_id=event_id, interaction_id=f"i-{event_id}", **fields)
        event = parse_message(
            message(payload, event_type="agent_note", schema_version=schema_version)
        )
        return TaggedEvent(
            event=event,
            text=payload["note"],
            sentiment=SentimentScore(-0.6, "negative"),
            causes=(),
            taxonomy_version=1,
            redactions=0,
        )

    store.write(build_batch([note("n-v2", "2", customer_id="c-9"), note("n-v1", "1")]))
    assert rows(store, "select event_id, customer_id from agent_notes order by 1") == [
        ("n-v1", None),
        ("n-v2", "c-9"),
    ]
