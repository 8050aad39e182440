"""The pure parts of voc retag: the per-cause diff, version ids and date ranges."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from voc.pipelines.ops.retag_diff import diff_causes, format_diff, short_text
from voc.pipelines.ops.retag_versions import TagRange, parse_when, version_id
from voc.transforms.taxonomy import load_taxonomy, parse_taxonomy

BEFORE = {
    "e1": frozenset({"billing_error"}),
    "e2": frozenset({"billing_error", "long_hold"}),
    "e3": frozenset({"unclassified"}),
    "e4": frozenset({"long_hold"}),
}
AFTER = {
    "e1": frozenset({"billing_error"}),  # unchanged
    "e2": frozenset({"billing_error", "callback"}),  # loses long_hold, gains callback
    "e3": frozenset({"callback"}),  # unclassified -> callback
    "e4": frozenset({"unclassified"}),  # long_hold dropped
    "e5": frozenset({"callback"}),  # never tagged before
}
TEXTS = {e: f"text of {e}" for e in AFTER}


def test_each_cause_counts_the_texts_that_gain_and_lose_it():
    diff = diff_causes(BEFORE, AFTER, TEXTS, examples=2)
    moved = {c.cause_id: (c.gained, c.lost) for c in diff.causes}
    assert moved == {
        "callback": (3, 0),
        "long_hold": (0, 2),
        "unclassified": (1, 1),
    }
    assert (diff.texts, diff.changed, diff.untagged_before) == (5, 4, 1)
    assert (diff.tags_before, diff.tags_after) == (1 + 2 + 1 + 1, 1 + 2 + 1 + 1 + 1)
    # most moved first; examples in event-id order, at most N per direction
    assert [c.cause_id for c in diff.causes] == ["callback", "long_hold", "unclassified"]
    assert diff.causes[0].gained_examples == [("e2", "text of e2"), ("e3", "text of e3")]
    assert diff.causes[1].lost_examples == [("e2", "text of e2"), ("e4", "text of e4")]


def test_events_not_retagged_do_not_count():
    diff = diff_causes(BEFORE, {"e1": BEFORE["e1"]}, TEXTS)
    assert (diff.texts, diff.changed, diff.causes) == (1, 0, [])
    assert "no cause moves: 1 texts" in format_diff(diff)


def test_zero_examples_keeps_the_counts():
    diff = diff_causes(BEFORE, AFTER, TEXTS, examples=0)
    assert diff.causes[0].gained == 3 and diff.causes[0].gained_examples == []


def test_the_report_has_counts_examples_and_totals():
    diff = diff_causes(BEFORE, AFTER, TEXTS, examples=1)
    text = format_diff(diff, "title")
    lines = text.splitlines()
    assert lines[0] == "title"
    assert lines[2].split() == ["callback", "3", "0", "+3"]
    assert "long_hold loses:" in text and "  e2: text of e2" in text
    assert lines[-1].startswith("total: 5 texts re-tagged, 4 change causes (1 unchanged)")
    as_dict = diff.to_dict()
    assert as_dict["causes"][1] == {
        "cause_id": "long_hold",
        "gained": 0,
        "lost": 2,
        "net": -2,
        "gained_examples": [],
        "lost_examples": [{"event_id": "e2", "text": "text of e2"}],
    }


def test_short_text_is_one_line_and_bounded():
    assert short_text("a\n b\tc") == "a b c"
    cut = short_text("word " * 50, width=20)
    assert len(cut) == 20 and cut.endswith("…")


def test_the_same_inputs_name_the_same_version():
    generic = load_taxonomy()
    edited = parse_taxonomy(
        'version: 2\nextends: generic\nrelease: "1.0.0"\ndrop: [long_hold]\n', "edited.yaml"
    )
    november = TagRange(datetime(2026, 11, 1, tzinfo=UTC))
    first = version_id(generic, None, november)
    assert first == version_id(load_taxonomy(), None, TagRange(parse_when("2026-11-01", "--since")))
    assert first.startswith("r1.0.0-") and len(first) == len("r1.0.0-") + 10
    # the same release number with other content, or another range, is another version
    assert version_id(edited, None, november) != first
    assert (
        version_id(generic, None, TagRange(november.since, datetime(2026, 12, 1, tzinfo=UTC)))
        != first
    )


def test_dates_and_ranges():
    assert parse_when("2026-11-01", "--since") == datetime(2026, 11, 1, tzinfo=UTC)
    assert parse_when("2026-11-01T06:30:00+01:00", "--since").utcoffset().total_seconds() == 3600
    assert parse_when("2026-11-01T06:30", "--until").tzinfo is UTC
    with pytest.raises(ValueError, match="--since 'yesterday': not a date"):
        parse_when("yesterday", "--since")
    with pytest.raises(ValueError, match="is not before --until"):
        TagRange(datetime(2026, 11, 2, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC))
