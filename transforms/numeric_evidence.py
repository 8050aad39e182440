"""Durations and counts in feedback text, as typed values a cause rule can test.

"Sitting here for three hours" names no cause in words; its evidence is a number
of a kind: a duration of 10,800 seconds. "Transferred 3 times" and "5th time I've
called" are counts. Rules test them ("duration >= 30 min near {wait}") rather than
listing every way of writing a number, so "45 min", "2hrs", "an hour and a half"
and "three hours" are all one rule.

Works on the token list of voc.transforms.feedback_tokens, so spans are character
offsets into the stored text like every other piece of evidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from voc.transforms.feedback_tokens import Token

__all__ = [
    "DURATION",
    "QUANTITY_WORDS",
    "TIMES",
    "UNIT_SECONDS",
    "Quantity",
    "find_quantities",
    "may_hold_quantities",
    "parse_amount",
]

DURATION = "duration"  # value in seconds
TIMES = "times"  # a count of occurrences ("3 times", "5th time", "third call")

UNIT_SECONDS: dict[str, int] = {
    "second": 1,
    "seconds": 1,
    "s": 1,
    "minute": 60,
    "minutes": 60,
    "m": 60,
    "hour": 3600,
    "hours": 3600,
    "day": 86_400,
    "days": 86_400,
    "week": 604_800,
    "weeks": 604_800,
    "month": 2_592_000,
    "months": 2_592_000,
}

_NUMBER_WORDS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "couple": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "ninety": 90,
    "hundred": 100,
    "few": 3,
    "several": 3,
    "multiple": 3,
    "many": 5,
    "numerous": 5,
    "countless": 10,
    "half": 0.5,
}
_ORDINAL_WORDS = {
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
    "umpteenth": 10,
    "nth": 10,
}
_TIME_WORDS = frozenset({"time", "times", "call", "calls", "attempt", "attempts", "go"})
# "the fifth email", "my third visit": an ordinal before a contact counts occurrences.
_ORDINAL_COUNTED = frozenset(
    {
        "email",
        "message",
        "chat",
        "letter",
        "complaint",
        "visit",
        "ticket",
        "request",
        "try",
        "contact",
    }
)
# Counts written as one word.
_COUNT_WORDS = {"once": 1.0, "twice": 2.0, "thrice": 3.0}
_LIMIT_WORDS = frozenset({"within", "max", "maximum"})
# Every word that can start a quantity without a digit (matching skips the search
# in texts that have none of them and no digit).
QUANTITY_WORDS = frozenset({*_NUMBER_WORDS, *_ORDINAL_WORDS, *_COUNT_WORDS, "x"})
# Every quantity find_quantities reports ends with (or is) one of these words.
_QUANTITY_ENDS = frozenset(
    {*UNIT_SECONDS, *_TIME_WORDS, *_ORDINAL_COUNTED, *_COUNT_WORDS, "x", "different"}
)


def may_hold_quantities(tokens: list[Token]) -> bool:
    """Cheap test before find_quantities: no unit, time word or count word, no
    quantity. Most feedback has none; many texts have "a" and order numbers."""
    return not _QUANTITY_ENDS.isdisjoint([token.word for token in tokens])


_NUMBER_RE = re.compile(r"(\d+(?:[.,]\d+)?)(st|nd|rd|th|x)?")


@dataclass(frozen=True, slots=True)
class Quantity:
    kind: str  # DURATION or TIMES
    value: float
    first: int  # token indexes, inclusive
    last: int
    start: int  # character span
    end: int
    sentence: int
    # "within 24 hours", "up to 5 days": a promise or a limit, not time that passed;
    # duration rules ignore it ("was promised a call back within 24 hours" is no wait)
    limit: bool = False


def parse_amount(word: str) -> tuple[float, bool] | None:
    """A number token's value and whether it is an ordinal ("5th", "third")."""
    if word in _NUMBER_WORDS:
        return float(_NUMBER_WORDS[word]), False
    if word in _ORDINAL_WORDS:
        return float(_ORDINAL_WORDS[word]), True
    if not word[:1].isdigit():
        return None
    found = _NUMBER_RE.fullmatch(word)
    if found is None:
        return None
    value = float(found.group(1).replace(",", "."))
    return value, found.group(2) in ("st", "nd", "rd", "th")


def find_quantities(tokens: list[Token]) -> list[Quantity]:
    """Every duration and count in reading order."""
    found: list[Quantity] = []
    index = 0
    count = len(tokens)
    while index < count:
        token = tokens[index]
        if token.word == "x" and index + 1 < count and tokens[index + 1].word.isdigit():
            # "called x3"
            found.append(_quantity(TIMES, float(tokens[index + 1].word), tokens, index, index + 1))
            index += 2
            continue
        counted = _COUNT_WORDS.get(token.word)
        if counted is not None:
            found.append(_quantity(TIMES, counted, tokens, index, index))
            index += 1
            continue
        amount = parse_amount(token.word)
        if amount is None:
            index += 1
            continue
        value, ordinal = amount
        after = index + 1
        if after < count and tokens[after].word == "different" and not ordinal:
            # "four different teams", "3 different agents": a count of distinct ones
            found.append(_quantity(TIMES, value, tokens, index, after))
            index = after + 1
            continue
        # "one and a half hours", "an hour and a half", "a couple of hours"
        if after < count and tokens[after].word == "of":
            after += 1
        if after < count and tokens[after].word in ("working", "business", "whole", "full"):
            after += 1  # "7 working days", "two whole hours"
        if (
            after + 2 < count
            and tokens[after].word == "and"
            and tokens[after + 1].word == "a"
            and tokens[after + 2].word == "half"
        ):
            value += 0.5
            after += 3
        if after < count and tokens[after].word == "half" and token.word in ("a", "an"):
            value, after = 0.5, after + 1
        if after < count and tokens[after].word in ("a", "an") and token.word == "half":
            after += 1
        if after >= count:
            break
        unit = tokens[after].word
        if (
            unit == "second"
            and after + 1 < count
            and tokens[after + 1].word in _TIME_WORDS | _ORDINAL_COUNTED
        ):
            # "a second time", "my second call": the ordinal, not a duration
            found.append(_quantity(TIMES, 2.0, tokens, after, after + 1))
            index = after + 2
            continue
        if (
            unit == "x"
            and not ordinal
            and (after + 1 >= count or parse_amount(tokens[after + 1].word) is None)
        ):  # "called 3x" (the tokenizer splits "3x"); not "2x 49.99", a quantity bought
            found.append(_quantity(TIMES, value, tokens, index, after))
            index = after + 1
            continue
        if unit in UNIT_SECONDS and not (ordinal and unit in ("second", "s")):
            last = after
            seconds = value * UNIT_SECONDS[unit]
            if (
                last + 3 < count
                and tokens[last + 1].word == "and"
                and tokens[last + 2].word == "a"
                and tokens[last + 3].word == "half"
            ):
                seconds += 0.5 * UNIT_SECONDS[unit]  # "two hours and a half"
                last += 3
            found.append(_quantity(DURATION, seconds, tokens, index, last))
            index = last + 1
            continue
        if ordinal and unit in _ORDINAL_COUNTED:
            found.append(_quantity(TIMES, value, tokens, index, after))
            index = after + 1
            continue
        if unit in _TIME_WORDS and (ordinal or unit.endswith("s") or unit == "go"):
            if token.word in ("a", "an", "half"):
                index += 1
                continue
            found.append(_quantity(TIMES, value, tokens, index, after))
            index = after + 1
            continue
        index += 1
    return found


def _quantity(kind: str, value: float, tokens: list[Token], first: int, last: int) -> Quantity:
    return Quantity(
        kind,
        value,
        first,
        last,
        tokens[first].start,
        tokens[last].end,
        tokens[first].sentence,
        limit=_is_limit(tokens, first),
    )


def _is_limit(tokens: list[Token], first: int) -> bool:
    """ "within 2 days", "up to 5 days": a deadline or a cap, not elapsed time."""
    if first > 0 and tokens[first - 1].word in _LIMIT_WORDS:
        return True
    return first > 1 and tokens[first - 2].word == "up" and tokens[first - 1].word == "to"
