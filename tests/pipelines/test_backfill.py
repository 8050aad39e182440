"""The backfill's pure parts (reading lines, selecting by event time, staging rows,
loading them) and its bounded graph on a TestPipeline."""

from __future__ import annotations

import base64
import gzip
import json
from datetime import UTC, datetime

import apache_beam as beam
import duckdb
import pytest
from apache_beam.runners.portability.fn_api_runner.fn_runner import FnApiRunner
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from voc.pipelines.backfill import BackfillConfig, build_backfill
from voc.pipelines.cli.backfill import event_time_bound
from voc.pipelines.dev.generate import generate_events, write_jsonl
from voc.transforms.parse_event import parse_message
from voc.transforms.records import InvalidMessage, ReceivedMessage, TaggedEvent
from voc.transforms.sinks.duckdb_store import DuckDBStore
from voc.transforms.sinks.staged_rows import (
    MESSAGES,
    StagedPart,
    list_parts,
    load_staged,
    stage_records,
    staging_schema,
    transactions,
)
from voc.transforms.sinks.tables import RECOVERY_ITEMS
from voc.transforms.sources.read_files import (
    INVALID_LINE,
    TimeRange,
    match_inputs,
    message_from_line,
    plan_chunks,
    read_chunk,
    selected,
)
from voc.transforms.tag_feedback import shared_taxonomy, tag_event

KEY = b"k" * 32


def _lines(path):
    return [line for chunk in plan_chunks(str(path), 3) for line in read_chunk(chunk)]


@pytest.mark.parametrize("compressed", [False, True])
@pytest.mark.parametrize("last_newline", [False, True])
def test_chunks_cover_every_line_once_with_its_number(tmp_path, compressed, last_newline):
    text = b"\n".join(f"line {n}".encode() for n in range(1, 11)) + (b"\n" if last_newline else b"")
    path = tmp_path / ("in.jsonl.gz" if compressed else "in.jsonl")
    path.write_bytes(gzip.compress(text) if compressed else text)
    chunks = plan_chunks(str(path), 3)
    assert [(c.first_line, c.lines) for c in chunks] == [(1, 3), (4, 3), (7, 3), (10, 1)]
    assert _lines(path) == [(n, f"line {n}".encode()) for n in range(1, 11)]


def test_an_empty_file_has_no_chunks(tmp_path):
    (tmp_path / "empty.jsonl").write_bytes(b"")
    assert plan_chunks(str(tmp_path / "empty.jsonl")) == []


def test_globs_match_sorted_files_and_name_a_pattern_that_matches_nothing(tmp_path):
    for name in ("b.jsonl", "a.jsonl.gz", "c.txt"):
        (tmp_path / name).write_bytes(b"")
    found = match_inputs([str(tmp_path / "*.jsonl*"), str(tmp_path / "b.jsonl")])
    assert [p.rsplit("/", 1)[1] for p in found] == ["a.jsonl.gz", "b.jsonl"]
    with pytest.raises(FileNotFoundError, match=r"nothing\*\.jsonl: no file matches"):
        match_inputs([str(tmp_path / "nothing*.jsonl")])


def _line(data: bytes = b"{}", **extra) -> bytes:
    record = {"topic": "surveys", "attributes": {"event_type": "survey"}}
    record["data_b64"] = base64.b64encode(data).decode()
    return json.dumps(record | extra).encode()


def test_a_saved_message_line_becomes_the_message_as_published():
    message = message_from_line(
        _line(b"\xff raw", message_id="42", publish_time="2026-01-05T09:00:00Z"), "f:1"
    )
    assert message.data == b"\xff raw"
    assert message.attributes == {"event_type": "survey"}
    assert message.message_id == "42"
    assert message.publish_time == datetime(2026, 1, 5, 9, tzinfo=UTC)


@pytest.mark.parametrize(
    "line, problem",
    [
        (b"not json", "not JSON"),
        (b"[1, 2]", "a JSON list, not an object"),
        (json.dumps({"attributes": {"a": 1}, "data_b64": ""}).encode(), "'attributes'"),
        (json.dumps({"attributes": {}}).encode(), "'data_b64' (the payload) is missing"),
        (json.dumps({"attributes": {}, "data_b64": "%%%"}).encode(), "not base64"),
        (_line(publish_time="yesterday"), "publish_time"),
    ],
)
def test_a_line_that_is_not_a_message_names_file_and_line(line, problem):
    with pytest.raises(InvalidMessage) as raised:
        message_from_line(line, "history/a.jsonl:17")
    assert raised.value.reason == INVALID_LINE
    assert raised.value.detail.startswith("history/a.jsonl:17: ")
    assert problem in raised.value.detail


def _at(event_time: str | None) -> ReceivedMessage:
    attributes = {} if event_time is None else {"event_time": event_time}
    return ReceivedMessage(b"{}", attributes, "", None)


def test_selection_is_by_the_event_time_attribute_since_inclusive_until_exclusive():
    january = TimeRange(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC))
    assert selected(_at("2026-01-01T00:00:00Z"), january)
    assert selected(_at("2026-01-31T23:59:59+00:00"), january)
    assert not selected(_at("2026-02-01T00:00:00Z"), january)
    assert not selected(_at("2025-12-31T23:00:00-00:30"), january)
    # Nothing says these are outside: they go on (and become dead letters).
    assert selected(_at(None), january)
    assert selected(_at("last tuesday"), january)


def test_event_time_bounds_are_dates_at_midnight_utc_or_rfc3339():
    assert event_time_bound("2026-03-01") == datetime(2026, 3, 1, tzinfo=UTC)
    assert event_time_bound("2026-03-01T12:00:00+02:00") == datetime(2026, 3, 1, 10, tzinfo=UTC)
    with pytest.raises(Exception, match="expected a date"):
        event_time_bound("2026-03-01T12:00:00")


def _tagged(n: int = 40, seed: int = 3) -> list[TaggedEvent]:
    messages, _ = generate_events(n, seed=seed, malformed_rate=0, duplicate_rate=0)
    taxonomy = shared_taxonomy(None)
    return [
        tag_event(parse_message(ReceivedMessage(m.data, m.attributes, "", None)), taxonomy, KEY)
        for m in messages
    ]


def test_staged_recovery_items_keep_their_link_to_the_event():
    names = staging_schema(RECOVERY_ITEMS).names
    assert {"event_id", "source", "payload_sha256"} <= set(names)
    assert set(RECOVERY_ITEMS.schema.names) < set(names)


def test_a_part_holds_every_table_and_the_messages_and_loads_once(tmp_path):
    tagged = _tagged()
    part = stage_records(str(tmp_path / "staging"), tagged)
    assert part.events == len(tagged) and part.dead_letters == 0
    assert {"surveys", "agent_notes", "feedback_tags", MESSAGES} <= set(part.tables)
    assert list_parts(str(tmp_path / "staging")) == [part]

    store = DuckDBStore(str(tmp_path / "voc.duckdb"))
    first = load_staged(store, str(tmp_path / "staging"))
    again = load_staged(store, str(tmp_path / "staging"))
    assert first.stored == len(tagged)
    assert first.new_rows["feedback_tags"] == sum(len(t.causes) for t in tagged)
    assert again.stored == 0 and sum(again.new_rows.values()) == 0
    store.close()


def test_an_incomplete_part_is_not_loaded(tmp_path):
    part = stage_records(str(tmp_path), _tagged(5))
    (tmp_path / part.path.rsplit("/", 1)[1] / "_manifest.json").unlink()
    assert list_parts(str(tmp_path)) == []


def test_an_event_id_reused_with_other_content_is_a_conflict_dead_letter(tmp_path):
    tagged = _tagged(10)
    original = next(t for t in tagged if t.event.event_type == "survey")
    payload = original.event.payload | {"csat": 1 if original.event.payload["csat"] != 1 else 2}
    data = json.dumps(payload).encode()
    edited = parse_message(ReceivedMessage(data, original.event.message.attributes, "", None))
    stage_records(str(tmp_path / "s1"), tagged)
    stage_records(str(tmp_path / "s2"), [tag_event(edited, shared_taxonomy(None), KEY)])
    db = str(tmp_path / "voc.duckdb")
    store = DuckDBStore(db)
    load_staged(store, str(tmp_path / "s1"))
    report = load_staged(store, str(tmp_path / "s2"))
    store.close()
    assert report.stored == 0 and report.new_rows["dead_letters"] == 1
    with duckdb.connect(db, read_only=True) as con:
        reason, raw = con.execute(
            "select reason, data from dead_letters where stage = 'store'"
        ).fetchone()
        (csat,) = con.execute(
            "select csat from surveys where event_id = ?", [original.event.event_id]
        ).fetchone()
    assert reason == "conflicting_duplicate" and raw == data
    assert csat == original.event.payload["csat"]


def test_transactions_take_whole_parts():
    parts = [StagedPart(f"p{i}", 8, 2, ()) for i in range(5)]
    groups = list(transactions(parts, 25))
    assert [len(g) for g in groups] == [3, 2]


def test_the_bounded_graph_stages_every_line_as_an_event_or_a_dead_letter(tmp_path):
    messages, report = generate_events(60, seed=5, duplicate_rate=0.05, malformed_rate=0.05)
    path = tmp_path / "history.jsonl"
    write_jsonl(messages, path)
    with path.open("ab") as out:
        out.write(b"{broken\n")
    staging = str(tmp_path / "staging")
    config = BackfillConfig(
        files=(str(path),), duckdb="", staging_dir=staging, pseudonym_key=KEY, lines_per_chunk=7
    )
    # The runner the backfill runs on (in this process here), named: nothing tries Prism.
    with TestPipeline(runner=FnApiRunner()) as p:
        outputs = build_backfill(p, config)
        totals = (
            outputs["parts"]
            | "Counts" >> beam.Map(lambda part: (part.events, part.dead_letters))
            | "Sum" >> beam.CombineGlobally(lambda pairs: tuple(map(sum, zip(*pairs, strict=True))))
        )
        valid = report.valid_surveys + report.valid_notes + report.duplicates
        assert_that(totals, equal_to([(valid, report.malformed + 1)]), label="AllStaged")
        reasons = outputs["unreadable_lines"] | "Reasons" >> beam.Map(lambda d: d.reason)
        assert_that(reasons, equal_to([INVALID_LINE]), label="UnreadableLine")
        assert_that(
            outputs["parse_failures"] | "Count" >> beam.combiners.Count.Globally(),
            equal_to([report.malformed]),
            label="ParseFailures",
        )
    assert sum(part.events for part in list_parts(staging)) == valid


def test_the_graph_stages_only_events_inside_the_range(tmp_path):
    messages, _ = generate_events(80, seed=9, days=4, malformed_rate=0, duplicate_rate=0)
    path = tmp_path / "history.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as out:
        write_jsonl(messages, out)
    times = sorted(datetime.fromisoformat(m.attributes["event_time"]) for m in messages)
    since, until = times[20], times[60]
    inside = sum(1 for t in times if since <= t < until)
    config = BackfillConfig(
        files=(str(path),),
        duckdb="",
        staging_dir=str(tmp_path / "staging"),
        time_range=TimeRange(since, until),
        pseudonym_key=KEY,
    )
    with TestPipeline(runner=FnApiRunner()) as p:
        outputs = build_backfill(p, config)
        assert_that(
            outputs["events"] | "Count" >> beam.combiners.Count.Globally(),
            equal_to([inside]),
        )
    assert sum(part.events for part in list_parts(config.staging_dir)) == inside
