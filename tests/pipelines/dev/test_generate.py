"""Tests for the seeded event generator, including how well the matcher finds what it plants."""

from __future__ import annotations

import io
import itertools
import json
import re
import time
import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from voc.pipelines.dev.generate import (
    CARDS,
    CUSTOMER_PHRASES,
    DEFAULT_START,
    DEPARTMENTS,
    MALFORMED_DEFECTS,
    NO_CAUSE,
    NOTE_PHRASES,
    PHONES,
    PRIMARY_WEIGHTS,
    PRODUCT_AREAS,
    GeneratedMessage,
    GenerationReport,
    generate_events,
    read_jsonl,
    write_jsonl,
)
from voc.transforms.match_root_causes import match_root_causes
from voc.transforms.tag_feedback import SIGNAL_FIELDS
from voc.transforms.taxonomy import UNCLASSIFIED, Taxonomy, load_taxonomy, parse_taxonomy

SCHEMAS = Path(__file__).parents[3] / "schemas" / "events"
# Every contract on disk, keyed by the (event_type, schema_version) attributes that pick it.
VALIDATORS = {
    tuple(path.name.removesuffix(".json").split(".v")): Draft202012Validator(
        json.loads(path.read_text(encoding="utf-8")), format_checker=FormatChecker()
    )
    for path in SCHEMAS.glob("*.v*.json")
}
EVENT_TYPES = {event_type for event_type, _ in VALIDATORS}
TOPIC_OF = {"survey": "surveys", "agent_note": "agent-notes"}
RFC3339_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
EMAIL = re.compile(r"[\w.]+@(?:mail\.)?example\.(?:com|org|net)")


@pytest.fixture(scope="module")
def generated() -> tuple[list[GeneratedMessage], GenerationReport]:
    return generate_events(6000, seed=7)


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return load_taxonomy()


def payload(message: GeneratedMessage) -> dict:
    return json.loads(message.data)


def text_and_signals(message: GeneratedMessage) -> tuple[str, dict | None]:
    body = payload(message)
    if message.event_type == "survey":
        return body["comment"], None
    signals = {key: body[key] for key in SIGNAL_FIELDS}
    return body["note"], signals


def failure(message: GeneratedMessage) -> str | None:
    """Why a consumer following the contracts would reject the message, or None."""
    try:
        text = message.data.decode("utf-8")
    except UnicodeDecodeError:
        return "utf8"
    try:
        body = json.loads(text)
    except ValueError:
        return "json"
    event_type = message.attributes.get("event_type")
    if event_type not in EVENT_TYPES:
        return "event_type"
    validator = VALIDATORS.get((event_type, message.attributes.get("schema_version")))
    if validator is None:
        return "schema_version"
    if next(validator.iter_errors(body), None) is not None:
        return "schema"
    return None


# --------------------------------------------------------------------------- counts


@pytest.mark.parametrize("n", [0, 1, 2, 10, 99, 1234])
def test_exactly_n_messages(n: int) -> None:
    messages, report = generate_events(n, seed=3)
    assert len(messages) == n == report.messages


def test_report_counts_match_a_recount(generated) -> None:
    messages, report = generated
    kinds = Counter(message.kind for message in messages)
    valid = [message for message in messages if message.kind == "valid"]
    assert report.messages == len(messages) == 6000
    assert report.valid_surveys == sum(m.event_type == "survey" for m in valid)
    assert report.valid_notes == sum(m.event_type == "agent_note" for m in valid)
    assert report.duplicates == kinds["duplicate"] == 60
    assert report.malformed == kinds["malformed"] == 60
    assert report.valid_surveys + report.valid_notes == kinds["valid"]
    interactions = {payload(message)["interaction_id"] for message in valid}
    assert report.interactions == len(interactions)
    assert sum(report.causes.values()) == report.interactions
    assert set(report.causes) <= set(PRIMARY_WEIGHTS) | {NO_CAUSE}
    # Every note carries its interaction's primary cause first, so notes give a
    # lower bound per cause that the report must respect.
    from_notes = Counter(
        (m.cause_ids[0] if m.cause_ids else NO_CAUSE) for m in valid if m.event_type == "agent_note"
    )
    for cause, count in from_notes.items():
        assert count <= report.causes[cause], cause
    assert report.pii_texts == sum(has_pii(m) for m in valid)


def test_unique_rows_per_table_match_report(generated) -> None:
    """What the acceptance test sees: dedupe by event id, dead-letter the malformed."""
    messages, report = generated
    surveys = {m.event_id for m in messages if m.kind != "malformed" and m.topic == "surveys"}
    notes = {m.event_id for m in messages if m.kind != "malformed" and m.topic == "agent-notes"}
    assert len(surveys) == report.valid_surveys
    assert len(notes) == report.valid_notes
    assert sum(failure(m) is not None for m in messages) == report.malformed


def test_mix_of_interactions(generated) -> None:
    messages, report = generated
    valid = [m for m in messages if m.kind == "valid"]
    notes = sum(m.event_type == "agent_note" for m in valid)
    surveys = len(valid) - notes
    assert 0.90 < notes / report.interactions <= 1.0  # about 95% have a note
    assert 0.72 < surveys / report.interactions < 0.88  # about 80% a survey
    assert 0.05 < report.causes[NO_CAUSE] / report.interactions < 0.11  # about 8% happy
    assert len(report.causes) == len(PRIMARY_WEIGHTS) + 1
    second_causes = sum(len(m.cause_ids) > 1 for m in valid)
    assert second_causes > 0.05 * len(valid)


def test_report_to_dict_is_json_ready(generated) -> None:
    _, report = generated
    data = report.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert list(data["causes"]) == sorted(data["causes"])
    assert {"messages", "valid_surveys", "valid_notes", "duplicates", "malformed"} <= set(data)
    assert data["interactions"] == report.interactions


def test_rates_can_be_zero() -> None:
    messages, report = generate_events(500, seed=1, malformed_rate=0, duplicate_rate=0)
    assert {m.kind for m in messages} == {"valid"}
    assert report.malformed == report.duplicates == 0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n": -1},
        {"n": 10, "malformed_rate": 1.5},
        {"n": 10, "duplicate_rate": -0.1},
        {"n": 10, "malformed_rate": 0.6, "duplicate_rate": 0.6},
    ],
)
def test_bad_arguments_are_rejected(kwargs) -> None:
    with pytest.raises(ValueError):
        generate_events(**kwargs)


# --------------------------------------------------------------------------- determinism


def test_same_seed_same_bytes() -> None:
    first, first_report = generate_events(800, seed=42)
    second, second_report = generate_events(800, seed=42)
    assert first == second
    assert first_report == second_report
    other, _ = generate_events(800, seed=43)
    assert [m.data for m in other] != [m.data for m in first]


def test_start_time_is_respected() -> None:
    start = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
    messages, _ = generate_events(300, seed=5, start=start)
    times = [
        datetime.fromisoformat(m.attributes["event_time"].replace("Z", "+00:00"))
        for m in messages
        if m.kind == "valid"
    ]
    assert min(times) >= start
    assert max(times) < start + timedelta(hours=9)


# --------------------------------------------------------------------------- contracts


def test_valid_messages_follow_the_contracts(generated) -> None:
    messages, _ = generated
    for message in messages:
        if message.kind == "malformed":
            continue
        assert failure(message) is None, message
        body = payload(message)
        attributes = message.attributes
        assert set(attributes) == {"event_type", "schema_version", "event_time", "event_id"}
        assert attributes["event_id"] == body["event_id"]
        assert attributes["event_type"] == message.event_type
        assert message.topic == TOPIC_OF[message.event_type]
        time_field = "submitted_at" if message.event_type == "survey" else "created_at"
        assert attributes["event_time"] == body[time_field]
        assert RFC3339_Z.match(body[time_field])
        assert message.event_id == body["event_id"]
        compact = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
        assert message.data == compact


def test_surveys_and_notes_mix_contract_versions(generated) -> None:
    """About 30% of surveys are v2, whose product_area fits the planted primary cause;
    about half the notes are v2 and name the customer their interaction's survey names."""
    messages, _ = generated
    valid = [m for m in messages if m.kind == "valid"]
    all_notes = [m for m in valid if m.event_type == "agent_note"]
    v2_notes = [m for m in all_notes if m.attributes["schema_version"] == "2"]
    assert 0.4 < len(v2_notes) / len(all_notes) < 0.6
    assert all("customer_id" in payload(m) for m in v2_notes)
    assert not any("customer_id" in payload(m) for m in all_notes if m not in v2_notes)
    customer_of = {
        payload(m)["interaction_id"]: payload(m)["customer_id"]
        for m in valid
        if m.event_type == "survey"
    }
    for note in v2_notes:
        body = payload(note)
        if body["interaction_id"] in customer_of:
            assert body["customer_id"] == customer_of[body["interaction_id"]]
    surveys = [m for m in valid if m.event_type == "survey"]
    v2 = [m for m in surveys if m.attributes["schema_version"] == "2"]
    assert {m.attributes["schema_version"] for m in surveys} == {"1", "2"}
    assert 0.25 < len(v2) / len(surveys) < 0.35
    v1 = [m for m in surveys if m.attributes["schema_version"] == "1"]
    assert not any("product_area" in payload(m) for m in v1)
    notes = {payload(m)["interaction_id"]: m for m in valid if m.event_type == "agent_note"}
    with_area = 0
    for message in v2:
        body = payload(message)
        note = notes.get(body["interaction_id"])
        if note is None:
            continue  # the survey's own cause_ids may be empty; the note names the cause
        primary = note.cause_ids[0] if note.cause_ids else NO_CAUSE
        if primary == NO_CAUSE:
            assert "product_area" not in body  # unknown to the survey tool
        else:
            assert body["product_area"] in PRODUCT_AREAS[primary], (primary, body)
            with_area += 1
    assert with_area > 0.8 * len(v2)
    assert len({payload(m).get("product_area") for m in v2}) >= 10


def test_event_ids_are_unique_uuids(generated) -> None:
    messages, _ = generated
    ids = [m.event_id for m in messages if m.kind == "valid"]
    assert len(ids) == len(set(ids))
    for event_id in ids[:200]:
        assert str(uuid.UUID(event_id)) == event_id


def test_malformed_messages_all_fail_and_cover_every_defect() -> None:
    messages, report = generate_events(2000, seed=9, malformed_rate=0.05)
    malformed = [m for m in messages if m.kind == "malformed"]
    assert len(malformed) == report.malformed == 100
    reasons = Counter(failure(m) for m in malformed)
    assert None not in reasons
    assert set(reasons) == {"utf8", "json", "event_type", "schema_version", "schema"}
    # the nine defects are dealt in shuffled rounds, so each occurs about equally
    assert reasons["schema"] >= 3 * 100 // len(MALFORMED_DEFECTS) - 3
    assert all(m.cause_ids == () for m in malformed)
    missing_type = [m for m in malformed if "event_type" not in m.attributes]
    assert missing_type and all(m.event_type is None for m in missing_type)


def test_malformed_messages_are_distinct(generated) -> None:
    messages, _ = generated
    keys = [
        (m.data, tuple(sorted(m.attributes.items()))) for m in messages if m.kind == "malformed"
    ]
    assert len(keys) == len(set(keys))
    valid = {(m.data, tuple(sorted(m.attributes.items()))) for m in messages if m.kind == "valid"}
    assert not valid & set(keys)


def test_duplicates_are_exact_resends_of_earlier_valid_messages(generated) -> None:
    messages, _ = generated
    seen: dict[tuple, int] = {}
    for position, message in enumerate(messages):
        key = (message.data, tuple(sorted(message.attributes.items())))
        if message.kind == "valid":
            seen[key] = position
        elif message.kind == "duplicate":
            assert key in seen, "duplicate arrived before its original"
            original = messages[seen[key]]
            assert message.event_id == original.event_id
            assert message.cause_ids == original.cause_ids


def test_arrival_order_is_locally_shuffled(generated) -> None:
    messages, _ = generated
    valid = [m for m in messages if m.kind == "valid"]
    times = [m.attributes["event_time"] for m in valid]
    inversions = sum(later < earlier for earlier, later in itertools.pairwise(times))
    assert 0 < inversions < len(times) // 3
    first_seen: dict[str, str] = {}
    survey_first = note_first = 0
    for message in valid:
        interaction = payload(message)["interaction_id"]
        if interaction in first_seen:
            if first_seen[interaction] == "survey":
                survey_first += 1
            else:
                note_first += 1
        else:
            first_seen[interaction] = message.event_type
    assert survey_first > 20
    assert note_first > survey_first


def test_default_start_is_fixed(generated) -> None:
    messages, _ = generated
    assert datetime(2026, 1, 5, 9, 0, tzinfo=UTC) == DEFAULT_START
    first = min(m.attributes["event_time"] for m in messages if m.kind == "valid")
    assert first.startswith("2026-01-05T09:")


# --------------------------------------------------------------------------- realism


def test_note_signals_match_planted_causes(generated) -> None:
    messages, _ = generated
    for message in messages:
        if message.kind != "valid" or message.event_type != "agent_note":
            continue
        body = payload(message)
        if "long_hold" in message.cause_ids:
            assert body["hold_seconds"] >= 600
        else:
            assert body["hold_seconds"] < 600
        if "transfers" in message.cause_ids:
            assert body["transfers"] >= 2
        else:
            assert body["transfers"] <= 1
        assert body["handle_seconds"] >= body["hold_seconds"]
        if body["channel"] not in ("phone", "chat"):
            assert body["hold_seconds"] == 0


def test_scores_follow_sentiment_and_are_sometimes_missing(generated) -> None:
    messages, _ = generated
    surveys = [payload(m) for m in messages if m.kind == "valid" and m.event_type == "survey"]
    csat = defaultdict(list)  # does the comment name a cause? -> scores
    for message in messages:
        if message.kind == "valid" and message.event_type == "survey":
            body = payload(message)
            if body.get("csat") is not None:
                csat[bool(message.cause_ids)].append(body["csat"])
    mean_without = sum(csat[False]) / len(csat[False])
    mean_with = sum(csat[True]) / len(csat[True])
    assert mean_without > mean_with + 0.5
    assert any("nps" not in s for s in surveys)
    assert any(s.get("ces", 0) is None for s in surveys)
    assert {s["language"] for s in surveys} >= {"en", "en-GB"}


def has_pii(message: GeneratedMessage) -> bool:
    text, _ = text_and_signals(message)
    return bool(EMAIL.search(text)) or any(v in text for v in PHONES + CARDS)


def test_some_texts_carry_pii(generated) -> None:
    messages, report = generated
    valid = [m for m in messages if m.kind == "valid"]
    rate = report.pii_texts / len(valid)
    assert 0.015 < rate < 0.05
    kinds = Counter()
    for message in valid:
        text, _ = text_and_signals(message)
        kinds["email"] += bool(EMAIL.search(text))
        kinds["phone"] += any(v in text for v in PHONES)
        kinds["card"] += any(v in text for v in CARDS)
    assert min(kinds.values()) > 10


def test_phrasing_is_varied(generated) -> None:
    assert all(len(phrases) >= 6 for phrases in CUSTOMER_PHRASES.values())
    assert all(len(phrases) >= 6 for phrases in NOTE_PHRASES.values())
    messages, _ = generated
    comments = defaultdict(set)
    for message in messages:
        if message.kind == "valid" and message.event_type == "survey" and message.cause_ids:
            comments[message.cause_ids[0]].add(payload(message)["comment"].lower())
    for cause, texts in comments.items():
        assert len(texts) >= 20, cause
    all_text = " ".join(t for texts in comments.values() for t in texts)
    assert "\u2019" in all_text  # typographic apostrophes from phones
    assert "dont" in all_text or "cant" in all_text or "doesnt" in all_text


# --------------------------------------------------------------------------- JSONL


def test_jsonl_round_trip(tmp_path: Path, generated) -> None:
    messages, _ = generated
    path = tmp_path / "events.jsonl"
    assert write_jsonl(messages, path) == len(messages)
    assert read_jsonl(path) == messages
    assert read_jsonl(str(path)) == messages
    first = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
    expected_keys = {"topic", "attributes", "data_b64", "kind", "event_type", "event_id"}
    assert set(first) == expected_keys | {"cause_ids"}


def test_jsonl_to_an_open_stream_keeps_invalid_utf8() -> None:
    messages, _ = generate_events(400, seed=2, malformed_rate=0.1)
    stream = io.StringIO()
    write_jsonl(messages, stream)
    stream.seek(0)
    restored = read_jsonl(stream)
    assert restored == messages
    assert any(failure(m) == "utf8" for m in restored)


def test_read_jsonl_names_the_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"topic": "surveys"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.jsonl:1"):
        read_jsonl(path)


# --------------------------------------------------------------------------- speed


def test_five_thousand_messages_well_under_a_second() -> None:
    started = time.process_time()
    generate_events(5000, seed=1)
    assert time.process_time() - started < 1.0


# --------------------------------------------------------------------------- matcher quality


def quality(messages, taxonomy) -> tuple[dict[str, float], dict[str, float], float]:
    """Recall of each planted cause, rate of each cause where it was not planted, and the
    share of happy (cause-free) texts left unclassified."""
    planted = Counter()
    found = Counter()
    elsewhere = Counter()
    not_planted = Counter()
    happy = happy_clean = 0
    for message in messages:
        if message.kind != "valid":
            continue
        text, signals = text_and_signals(message)
        if not text and not signals:
            continue
        ids = {match.cause_id for match in match_root_causes(text, taxonomy, signals)}
        if message.cause_ids:
            planted[message.cause_ids[0]] += 1
            found[message.cause_ids[0]] += message.cause_ids[0] in ids
        else:
            happy += 1
            happy_clean += ids == {UNCLASSIFIED}
        for cause in taxonomy.cause_ids:
            if cause not in message.cause_ids:
                not_planted[cause] += 1
                elsewhere[cause] += cause in ids
    recall = {cause: found[cause] / planted[cause] for cause in planted}
    false_rate = {cause: elsewhere[cause] / not_planted[cause] for cause in not_planted}
    return recall, false_rate, happy_clean / happy


# The generator plants the causes it knows (a subset of the generic pack's); the pack
# was written from the cause definitions, not from these sentences, so this is a floor
# that catches a change breaking what the demo shows, not a measure of quality (that is
# tests/transforms/test_cause_packs.py on independently written, labelled texts).
PLANTED_RECALL_FLOOR = 0.85
UNPLANTED_RATE_CEILING = 0.05


def test_matcher_finds_planted_causes(generated, taxonomy) -> None:
    messages, _ = generated
    recall, false_rate, happy_clean = quality(messages, taxonomy)
    assert set(recall) <= set(taxonomy.cause_ids)
    for cause, value in recall.items():
        assert value >= PLANTED_RECALL_FLOOR, (cause, value)
    for cause, value in false_rate.items():
        assert value <= UNPLANTED_RATE_CEILING, (cause, value)
    assert happy_clean >= 0.93


def test_departments_of_planted_causes_follow_the_default_pack(taxonomy) -> None:
    """The ground truth names a surge's department without loading the taxonomy."""
    assert set(DEPARTMENTS) == set(PRIMARY_WEIGHTS)
    for cause, department in DEPARTMENTS.items():
        assert taxonomy.department_for(cause) == department, cause


def _variant(cause_yaml: str) -> Taxonomy:
    """The generic pack with one cause replaced."""
    text = "version: 2\nextends: generic\nname: variant\ncauses:\n" + cause_yaml
    return parse_taxonomy(text, "variant.yaml")


def test_quality_check_can_fail(generated) -> None:
    """Crippling one cause must show up in the measurement the test above relies on."""
    messages, _ = generated
    crippled = _variant(
        "  - {id: product_defect, replace: true, description: x, department: product,"
        " phrases: [zzz never written]}\n"
    )
    recall, _, _ = quality(messages, crippled)
    assert recall["product_defect"] < PLANTED_RECALL_FLOOR
    # and an over-eager rule shows up as false positives
    greedy = _variant("  - {id: billing_error, phrases: [the]}\n")
    _, false_rate, _ = quality(messages, greedy)
    assert false_rate["billing_error"] > UNPLANTED_RATE_CEILING
