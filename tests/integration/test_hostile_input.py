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
from voc.transforms.sinks.event_identity import FACT_TABLE, payload_sha256

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
    # event_id -> its versions (fact table, payload hash) -> the messages that carry each.
    versions: dict[str, dict[tuple[str, str], set[str]]] = {}
    rejected = set()
    for sample, message_id in zip(samples, ids, strict=True):
        try:
            event = parse_message(ReceivedMessage(sample.data, sample.attributes, message_id, None))
        except InvalidMessage:
            rejected.add(message_id)
            continue
        version = (FACT_TABLE[event.event_type], payload_sha256(event.payload))
        versions.setdefault(event.event_id, {}).setdefault(version, set()).add(message_id)
    tables = {table for by_version in versions.values() for table, _ in by_version}
    assert len(rejected) > 300 and tables == {"surveys", "agent_notes"}  # a real mix

    db = tmp_path / "voc.duckdb"
    report = run_job(job_options(pubsub_topology, db))
    assert report.acknowledged == len(samples)
    with duckdb.connect(str(db), read_only=True) as con:
        stored = con.execute(
            "select event_id, 'surveys', payload_sha256 from surveys union all "
            "select event_id, 'agent_notes', payload_sha256 from agent_notes"
        ).fetchall()
        dead = con.execute("select message_id, stage, reason, error from dead_letters").fetchall()
    # Every event id is stored once, as one of its versions (whichever arrived first);
    # every message of another version of that id is a conflicting_duplicate.
    winners = {event_id: (table, content) for event_id, table, content in stored}
    assert len(winners) == len(stored) and set(winners) == set(versions)
    losers = set()
    for event_id, by_version in versions.items():
        assert winners[event_id] in by_version
        losers |= {m for v, ms in by_version.items() if v != winners[event_id] for m in ms}
    by_stage = {"parse": set(), "store": set()}
    for message_id, stage, reason, error in dead:
        by_stage[stage].add(message_id)
        expected_reasons = REJECTION_REASONS if stage == "parse" else ("conflicting_duplicate",)
        assert reason in expected_reasons
        assert error and "\n" not in error and len(error) <= MAX_ERROR_CHARS
    assert len(dead) == len(rejected) + len(losers)
    assert by_stage == {"parse": rejected, "store": losers}
