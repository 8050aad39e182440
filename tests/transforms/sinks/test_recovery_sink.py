"""Recovery items made by the sink, on a real DuckDB file: one per contact, exactly once."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from tests.transforms.helpers import note_payload, survey_payload
from tests.transforms.sinks.test_duckdb_store import NOW, tagged
from voc.transforms.records import SentimentScore
from voc.transforms.sinks.duckdb_store import DuckDBStore, build_batch
from voc.transforms.sinks.tables import SinkSettings

SURVEY_AT = datetime(2026, 1, 5, 10, tzinfo=UTC)  # survey_payload's submitted_at


@pytest.fixture
def store(tmp_path):
    opened = DuckDBStore(str(tmp_path / "voc.duckdb"))
    opened.open()
    yield opened
    opened.close()


def items(store: DuckDBStore) -> list[tuple]:
    return store.con.execute(
        "select item_id, survey_event_id, department, cause_id, reason, due_at, created_at "
        "from recovery_items order by item_id"
    ).fetchall()


def test_a_detractor_survey_makes_one_item_owned_by_its_primary_cause(store):
    survey = tagged(
        survey_payload(nps=3, csat=2),
        causes=[("unclassified", "support_ops"), ("billing_error", "billing")],
    )
    result = store.write(build_batch([survey], now=NOW))
    assert result["recovery_items"] == 1
    assert items(store) == [
        (
            "recovery:i-1",
            "s-1",
            "billing",
            "billing_error",
            "nps_detractor",
            SURVEY_AT + timedelta(hours=24),
            NOW,
        )
    ]
    # Scores, channel and the pseudonymised customer ride along for the caller.
    assert store.con.execute(
        "select customer_id, channel, nps, csat, sentiment_score from recovery_items"
    ).fetchall() == [("c-1", "chat", 3, 2, -0.6)]


def test_a_redelivered_survey_and_a_second_survey_of_the_contact_make_no_second_item(store):
    survey = tagged(survey_payload())
    store.write(build_batch([survey], now=NOW))
    redelivered = store.write(build_batch([survey], now=NOW + timedelta(minutes=5)))
    second = tagged(survey_payload(event_id="s-2", submitted_at="2026-01-06T10:00:00Z"))
    again = store.write(build_batch([second], now=NOW + timedelta(days=1)))
    assert (redelivered["recovery_items"], again["recovery_items"]) == (0, 0)
    assert again["surveys"] == 1  # the survey itself is stored
    assert [row[:2] for row in items(store)] == [("recovery:i-1", "s-1")]


def test_two_surveys_of_one_contact_in_one_batch_make_one_item(store):
    first = tagged(survey_payload())
    second = tagged(survey_payload(event_id="s-2"))
    assert store.write(build_batch([first, second, first], now=NOW))["recovery_items"] == 1


def test_no_item_for_content_satisfied_customers_or_agent_notes(store):
    happy = tagged(survey_payload(event_id="s-ok", nps=9, csat=5, interaction_id="i-ok"))
    happy = dataclasses.replace(happy, sentiment=SentimentScore(0.7, "positive"))
    note = tagged(note_payload(), event_type="agent_note")
    assert store.write(build_batch([happy, note], now=NOW))["recovery_items"] == 0


def test_strongly_negative_words_alone_make_an_item_and_unclassified_goes_to_triage(store):
    quiet = tagged(survey_payload(nps=None, csat=None), causes=[("unclassified", "support_ops")])
    quiet = dataclasses.replace(quiet, sentiment=SentimentScore(-0.8, "negative"))
    store.write(build_batch([quiet], now=NOW))
    assert [row[2:5] for row in items(store)] == [
        ("support_ops", "unclassified", "strongly_negative")
    ]


def test_the_due_time_is_the_jobs_setting(store):
    settings = SinkSettings(recovery_due=timedelta(hours=4))
    store.write(build_batch([tagged(survey_payload())], now=NOW, settings=settings))
    assert items(store)[0][5] == SURVEY_AT + timedelta(hours=4)


def test_an_event_id_reused_with_other_content_makes_no_item_for_the_loser(store):
    store.write(build_batch([tagged(survey_payload(nps=9, csat=5, interaction_id="i-9"))]))
    # Same event_id, other content (a detractor): a conflicting duplicate, dead-lettered.
    result = store.write(build_batch([tagged(survey_payload(interaction_id="i-9", nps=1))]))
    assert (result["surveys"], result["recovery_items"], result["dead_letters"]) == (0, 0, 1)


def test_in_one_batch_the_losing_version_of_an_event_id_makes_no_item(store):
    winner = tagged(survey_payload(nps=9, csat=5, interaction_id="i-9"))
    winner = dataclasses.replace(winner, sentiment=SentimentScore(0.5, "positive"))
    loser = tagged(survey_payload(interaction_id="i-9", nps=1))
    result = store.write(build_batch([winner, loser], now=NOW))
    assert (result["surveys"], result["recovery_items"], result["dead_letters"]) == (1, 0, 1)
