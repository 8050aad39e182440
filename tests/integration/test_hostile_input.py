"""Fuzzed messages through the real emulator and the real job: it never crashes, and each
message ends as exactly one fact or one dead letter with a documented reason."""

from __future__ import annotations

import json
import random
import signal

import duckdb
import pytest

from tests.fuzz.fuzz_parser import Ingredients, base_messages, make_sample
from tests.integration.test_sink_outages import start_job
from tests.integration.test_streaming_job import job_options
from voc.pipelines.dev.generate import generate_events
from voc.pipelines.local_driver import run_job
from voc.pipelines.ops.publish import publish_messages
from voc.transforms.parse_event import EVENT_TIME_FIELD, REJECTION_REASONS, parse_message
from voc.transforms.records import (
    MAX_ERROR_CHARS,
    InvalidMessage,
    ReceivedMessage,
    payload_sha256,
)
from voc.transforms.sinks.event_identity import FACT_TABLE
from voc.transforms.tag_feedback import TEXT_FIELD

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


class Outgoing:
    """A message to publish to the topic its event type names (surveys otherwise)."""

    def __init__(self, topology, data: bytes, attributes: dict[str, str]) -> None:
        self.data, self.attributes = data, attributes
        notes = attributes.get("event_type") == "agent_note"
        self.topic = topology.topics["agent-notes" if notes else "surveys"]


class Expected:
    """What the tables must hold for published messages, whatever order they arrive in."""

    def __init__(self) -> None:
        # event_id -> its versions (fact table, payload hash) -> the messages carrying each.
        self.versions: dict[str, dict[tuple[str, str], set[str]]] = {}
        self.rejected: set[str] = set()

    def add(self, data: bytes, attributes: dict[str, str], message_id: str) -> None:
        try:
            event = parse_message(ReceivedMessage(data, attributes, message_id, None))
        except InvalidMessage:
            self.rejected.add(message_id)
            return
        version = (FACT_TABLE[event.event_type], payload_sha256(event.payload))
        self.versions.setdefault(event.event_id, {}).setdefault(version, set()).add(message_id)

    def check(self, db) -> None:
        """Every event id stored once, as one of its versions (whichever arrived first);
        every message of another version a conflicting_duplicate; every other message
        a parse dead letter with a documented reason and a one-line error."""
        with duckdb.connect(str(db), read_only=True) as con:
            stored = con.execute(
                "select event_id, 'surveys', payload_sha256 from surveys union all "
                "select event_id, 'agent_notes', payload_sha256 from agent_notes"
            ).fetchall()
            dead = con.execute(
                "select message_id, stage, reason, error from dead_letters"
            ).fetchall()
        winners = {event_id: (table, content) for event_id, table, content in stored}
        assert len(winners) == len(stored) and set(winners) == set(self.versions)
        losers = set()
        for event_id, by_version in self.versions.items():
            assert winners[event_id] in by_version
            losers |= {m for v, ms in by_version.items() if v != winners[event_id] for m in ms}
        by_stage = {"parse": set(), "store": set()}
        for message_id, stage, reason, error in dead:
            by_stage[stage].add(message_id)
            reasons = REJECTION_REASONS if stage == "parse" else ("conflicting_duplicate",)
            assert reason in reasons
            assert error and "\n" not in error and len(error) <= MAX_ERROR_CHARS
        assert len(dead) == len(self.rejected) + len(losers)
        assert by_stage == {"parse": self.rejected, "store": losers}


def publish_expecting(topology, messages: list[tuple[bytes, dict[str, str]]], expected) -> None:
    outgoing = [Outgoing(topology, data, attributes) for data, attributes in messages]
    ids = publish_messages(outgoing, topology.project)
    for (data, attributes), message_id in zip(messages, ids, strict=True):
        expected.add(data, attributes, message_id)


def fuzzed(seed: int, count: int) -> list[tuple[bytes, dict[str, str]]]:
    rng = random.Random(seed)
    bases, ingredients = base_messages(seed=seed, count=200), Ingredients()
    samples = [make_sample(rng, bases, ingredients) for _ in range(count)]
    return [(s.data, s.attributes) for s in samples if publishable(s.attributes, s.data)]


def test_fuzzed_messages_end_as_one_fact_or_one_dead_letter_each(pubsub_topology, tmp_path):
    expected = Expected()
    messages = fuzzed(41, 600)
    publish_expecting(pubsub_topology, messages, expected)
    tables = {table for by_version in expected.versions.values() for table, _ in by_version}
    assert len(expected.rejected) > 300 and tables == {"surveys", "agent_notes"}  # a real mix

    db = tmp_path / "voc.duckdb"
    report = run_job(job_options(pubsub_topology, db))
    assert report.acknowledged == len(messages)
    expected.check(db)


def hostile(seed: int) -> list[tuple[bytes, dict[str, str]]]:
    """The cases a tester found, on real generated events: sizes up to Pub/Sub's limit,
    reused ids, implausible and disagreeing times, control characters in ids, PII in
    ids, and display controls in text: ~300 messages."""
    generated, _ = generate_events(260, seed=seed, malformed_rate=0.0, duplicate_rate=0.0)
    out = []
    for n, message in enumerate(generated):
        payload, attributes = json.loads(message.data), dict(message.attributes)
        time_field = EVENT_TIME_FIELD[attributes["event_type"]]
        text_field = TEXT_FIELD[attributes["event_type"]]
        case = n % 8
        if case == 1:
            payload[time_field] = attributes["event_time"] = "9999-12-31T23:59:59Z"
        elif case == 2:
            attributes["event_time"] = "yesterday"
        elif case == 3:
            payload["interaction_id"] = "call +44 7700 900123"
        elif case == 4:
            payload[text_field] = "\u202egnp.exe\u200b rebate" + payload[text_field]
        elif case == 5:
            payload["event_id"] = payload["event_id"][:8] + "\x00" + payload["event_id"][8:]
            attributes["event_id"] = payload["event_id"]
        elif case == 6:  # the same id again, other content
            out.append((message.data, dict(message.attributes)))
            payload[text_field] = "A different story entirely."
        out.append((json.dumps(payload).encode(), attributes))
    survey_attributes = next(a for _, a in out if a["event_type"] == "survey")
    for size in (3_000_000, 6_000_000, 9_500_000):
        out.append((b"{" + b" " * size + b"}", dict(survey_attributes)))
    random.Random(seed).shuffle(out)
    return out


def test_a_hostile_stream_through_the_running_job_then_sigterm(
    pubsub_emulator, pubsub_topology, tmp_path
):
    db = str(tmp_path / "voc.duckdb")
    job = start_job(pubsub_topology, pubsub_emulator, db)
    expected = Expected()
    first, valid = hostile(43), generate_events(200, seed=44, malformed_rate=0.0)[0]
    publish_expecting(pubsub_topology, first, expected)
    job.wait_for(rf"committed\s+{len(first):,}\b", timeout=120)
    # The job keeps taking valid events after the hostile ones.
    publish_expecting(pubsub_topology, [(m.data, dict(m.attributes)) for m in valid], expected)
    job.wait_for(rf"committed\s+{len(first) + len(valid):,}\b", timeout=120)
    job.process.send_signal(signal.SIGTERM)
    assert job.wait(timeout=60) == 0, "\n".join(job.lines[-20:])
    assert "Traceback" not in "\n".join(job.lines)
    expected.check(db)
    with duckdb.connect(db, read_only=True) as con:
        text = con.execute("select string_agg(comment, ' ') from surveys").fetchone()[0]
        ids = con.execute("select string_agg(interaction_id, ' ') from surveys").fetchone()[0]
    assert "\u202e" not in text and "\u200b" not in text and "7700 900123" not in ids
