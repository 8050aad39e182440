"""Fuzzed messages through the real emulator and the real job: it never crashes, and each
message ends as exactly one fact or one dead letter with a documented reason."""

from __future__ import annotations

import random

import duckdb
import pytest

from tests.fuzz.fuzz_parser import Ingredients, base_messages, make_sample
from tests.integration.test_streaming_job import job_options
from voc.pipelines.local_driver import run_job
from voc.pipelines.ops.publish import publish_messages
from voc.transforms.parse_event import REJECTION_REASONS, parse_message
from voc.transforms.records import MAX_ERROR_CHARS, InvalidMessage, ReceivedMessage

pytestmark = pytest.mark.integration


def publishable(attributes: dict[str, str], data: bytes) -> bool:
    """What Pub/Sub itself accepts; anything else never reaches a subscriber."""
    try:
        sizes = [(len(k.encode()), len(v.encode())) for k, v in attributes.items()]
    except UnicodeEncodeError:
        return False
    return (
        len(data) < 9_000_000
        and all(0 < k <= 256 and v <= 1024 for k, v in sizes)
        and not any(k.startswith("goog") for k in attributes)
    )


def test_fuzzed_messages_end_as_one_fact_or_one_dead_letter_each(pubsub_topology, tmp_path):
    rng = random.Random(41)
    bases, ingredients = base_messages(seed=41, count=200), Ingredients()
    samples = [make_sample(rng, bases, ingredients) for _ in range(600)]
    samples = [s for s in samples if publishable(s.attributes, s.data)]
    topic_of = {"agent_note": pubsub_topology.topics["agent-notes"]}

    class Outgoing:
        def __init__(self, sample) -> None:
            self.data, self.attributes = sample.data, sample.attributes
            self.topic = topic_of.get(sample.attributes.get("event_type"), "")
            self.topic = self.topic or pubsub_topology.topics["surveys"]

    ids = publish_messages([Outgoing(s) for s in samples], pubsub_topology.project)
    facts, rejected = {"survey": set(), "agent_note": set()}, set()
    for sample, message_id in zip(samples, ids, strict=True):
        try:
            event = parse_message(ReceivedMessage(sample.data, sample.attributes, message_id, None))
            facts[event.event_type].add(event.event_id)
        except InvalidMessage:
            rejected.add(message_id)
    assert len(rejected) > 300 and facts["survey"] and facts["agent_note"]  # a real mix

    db = tmp_path / "voc.duckdb"
    report = run_job(job_options(pubsub_topology, db))
    assert report.acknowledged == len(samples)
    with duckdb.connect(str(db), read_only=True) as con:
        surveys = {r[0] for r in con.execute("select event_id from surveys").fetchall()}
        notes = {r[0] for r in con.execute("select event_id from agent_notes").fetchall()}
        dead = con.execute("select message_id, stage, reason, error from dead_letters").fetchall()
    assert surveys == facts["survey"] and notes == facts["agent_note"]
    assert {row[0] for row in dead} == rejected and len(dead) == len(rejected)
    for _, stage, reason, error in dead:
        assert stage == "parse" and reason in REJECTION_REASONS
        assert error and "\n" not in error and len(error) <= MAX_ERROR_CHARS
