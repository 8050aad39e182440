"""Durations and counts found in tokenized feedback: the value a number rule tests
(seconds for a duration, occurrences for a count), its token range, its character
span in the text and its sentence."""

from __future__ import annotations

import pytest

from voc.transforms.feedback_tokens import tokenize
from voc.transforms.numeric_evidence import (
    DURATION,
    TIMES,
    UNIT_SECONDS,
    Quantity,
    find_quantities,
    parse_amount,
)

MINUTE = 60
HOUR = 3600
DAY = 86_400


def quantities(text: str) -> list[tuple[str, float, str]]:
    """(kind, value, evidence text) of every quantity in the text."""
    return [
        (found.kind, found.value, text[found.start : found.end])
        for found in find_quantities(tokenize(text))
    ]


# --------------------------------------------------------------------------- parse_amount


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("45", (45.0, False)),
        ("1.5", (1.5, False)),
        ("2,5", (2.5, False)),  # a decimal comma
        ("5th", (5.0, True)),
        ("3rd", (3.0, True)),
        ("21st", (21.0, True)),
        ("2nd", (2.0, True)),
        ("3x", (3.0, False)),
        ("three", (3.0, False)),
        ("a", (1.0, False)),
        ("an", (1.0, False)),
        ("couple", (2.0, False)),
        ("half", (0.5, False)),
        ("few", (3.0, False)),
        ("several", (3.0, False)),
        ("countless", (10.0, False)),
        ("third", (3.0, True)),
        ("fifth", (5.0, True)),
        ("umpteenth", (10.0, True)),
        # "second" is an ordinal as a word; as a unit it is handled by find_quantities
        ("second", (2.0, True)),
    ],
)
def test_parse_amount(word, expected):
    assert parse_amount(word) == expected


@pytest.mark.parametrize("word", ["", "x3", "abc", "time", "3rdx", "1.2.3", "-4"])
def test_parse_amount_of_a_non_number_is_none(word):
    assert parse_amount(word) is None


def test_unit_seconds():
    assert UNIT_SECONDS["minute"] == UNIT_SECONDS["m"] == 60
    assert UNIT_SECONDS["hours"] == 3600
    assert UNIT_SECONDS["day"] == 86_400
    assert UNIT_SECONDS["weeks"] == 7 * 86_400


# --------------------------------------------------------------------------- durations


@pytest.mark.parametrize(
    ("text", "seconds", "evidence"),
    [
        ("waited 45 min", 45 * MINUTE, "45 min"),
        ("on hold 2hrs", 2 * HOUR, "2hrs"),
        ("on hold for 45min", 45 * MINUTE, "45min"),
        ("10 mins", 10 * MINUTE, "10 mins"),
        ("30m", 30 * MINUTE, "30m"),
        ("5 hrs", 5 * HOUR, "5 hrs"),
        ("2 h", 2 * HOUR, "2 h"),
        ("90 seconds", 90, "90 seconds"),
        ("20 secs", 20, "20 secs"),
        ("1.5 hours", 1.5 * HOUR, "1.5 hours"),
        ("2,5 hours", 2.5 * HOUR, "2,5 hours"),
        ("sitting here for three hours", 3 * HOUR, "three hours"),
        ("an hour", HOUR, "an hour"),
        ("an hour and a half", 1.5 * HOUR, "an hour and a half"),
        ("one and a half hours", 1.5 * HOUR, "one and a half hours"),
        ("2 and a half hours", 2.5 * HOUR, "2 and a half hours"),
        ("half an hour", 30 * MINUTE, "half an hour"),
        ("half a day", DAY / 2, "half a day"),
        ("a couple of days", 2 * DAY, "couple of days"),
        ("for a couple of hours", 2 * HOUR, "couple of hours"),
        ("a few minutes", 3 * MINUTE, "few minutes"),
        ("two weeks", 14 * DAY, "two weeks"),
        ("wait a second", 1, "a second"),
    ],
)
def test_durations_are_in_seconds(text, seconds, evidence):
    assert quantities(text) == [(DURATION, seconds, evidence)]


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("two hours and a half", 2.5 * HOUR),
        ("three days and a half", 3.5 * DAY),
    ],
)
def test_and_a_half_after_the_unit_adds_half_a_unit(text, seconds):
    # "an hour and a half" is 1.5 hours, and "two hours and a half" 2.5, not 3:
    # the half is half of one unit, not half of the whole amount
    assert quantities(text) == [(DURATION, seconds, text)]


# --------------------------------------------------------------------------- counts


@pytest.mark.parametrize(
    ("text", "count", "evidence"),
    [
        ("transferred 3 times", 3, "3 times"),
        ("5th time I called", 5, "5th time"),
        ("12th time", 12, "12th time"),
        ("this is my third call", 3, "third call"),
        ("2nd call today", 2, "2nd call"),
        ("3 calls", 3, "3 calls"),
        ("1st go", 1, "1st go"),
        ("the fifth email", 5, "fifth email"),
        ("my second visit", 2, "second visit"),
        ("for the second time", 2, "second time"),
        ("twice", 2, "twice"),
        ("charged me TWICE", 2, "TWICE"),
        ("once", 1, "once"),
        ("thrice", 3, "thrice"),
        ("four different teams", 4, "four different"),
        ("3 different agents", 3, "3 different"),
        ("a few times", 3, "few times"),
        ("a couple times", 2, "couple times"),
        ("many times", 5, "many times"),
    ],
)
def test_counts(text, count, evidence):
    assert quantities(text) == [(TIMES, count, evidence)]


@pytest.mark.parametrize("text", ["called 3x", "called 3X", "called x3"])
def test_multiplier_counts(text):
    # "3x" / "x3" are counts (docs/taxonomy.md: '"x3" are counts'); the tokenizer
    # splits "3x" into "3" and "x", so the "3x" branch of find_quantities never sees it
    evidence = text.split()[-1]
    assert quantities(text) == [(TIMES, 3, evidence)]


def test_a_second_time_is_a_count_not_a_duration():
    # "second" is both a unit and an ordinal; before "time" it is the ordinal
    found = quantities("I had to call a second time")
    assert [(kind, value) for kind, value, _ in found] == [(TIMES, 2)]
    assert found[0][2].endswith("second time")


@pytest.mark.parametrize(
    "text",
    [
        "I had a good time",
        "I had a time",
        "one time",  # singular "time" after a cardinal is not counted
        "5 call",
        "the 2nd",
        "call 911",
        "room 12 was dirty",
        "the first thing",  # "first" is no ordinal word here
        "nothing numeric at all",
        "",
    ],
)
def test_texts_without_a_quantity(text):
    assert quantities(text) == []


def test_different_after_an_ordinal_is_no_count():
    assert quantities("the 3rd different agent") == []


# --------------------------------------------------------------------------- positions


def test_quantities_carry_token_range_span_and_sentence():
    text = "Hi. I called 3 times. Then waited an hour and a half!"
    tokens = tokenize(text)
    assert find_quantities(tokens) == [
        Quantity(TIMES, 3.0, 3, 4, 13, 20, 1),
        Quantity(DURATION, 5400.0, 7, 11, 34, 52, 2),
    ]
    assert text[13:20] == "3 times"
    assert text[34:52] == "an hour and a half"
    assert [token.word for token in tokens[7:12]] == ["an", "hour", "and", "a", "half"]


def test_quantities_in_reading_order():
    text = "waited 3 days, called 4 times, 2hrs on hold twice"
    assert quantities(text) == [
        (DURATION, 3 * DAY, "3 days"),
        (TIMES, 4, "4 times"),
        (DURATION, 2 * HOUR, "2hrs"),
        (TIMES, 2, "twice"),
    ]


def test_glued_duration_span_covers_number_and_unit():
    text = "queue: 45min"
    [found] = find_quantities(tokenize(text))
    assert (found.first, found.last, found.start, found.end) == (1, 2, 7, 12)


def test_abbreviated_unit_inside_typographic_text_keeps_offsets():
    text = "I\u2019ve waited 2 hrs \u2013 twice"
    assert quantities(text) == [(DURATION, 2 * HOUR, "2 hrs"), (TIMES, 2, "twice")]


def test_empty_token_list():
    assert find_quantities([]) == []
