"""Cause rules in plain words, compiled to what the matcher runs.

A rule is written the way an analyst would say it:

- a phrase, ``"{order} never arrived"``: its words matched on roots, in order, with
  small words ("my", "has", "still", "been") allowed between them, so it also
  matches "my parcel has still never arrived";
- ``near: ["{refund}", [waiting, "not received"], 6]``: two phrases or concepts
  within 6 words of each other, in either order, in one sentence;
- a number, ``"duration >= 30 min near {wait}"``: a typed value found in the text
  (voc.transforms.numeric_evidence) compared with a threshold;
- a regular expression: the escape hatch for what words cannot say, marked as such;
- a signal on the agent note's numbers (hold seconds, transfers).

Phrases and concept members compile to *atoms*: sequences of slots, each slot a set
of alternative root sequences. The matcher finds every atom once per text and the
rules combine atom occurrences, so a concept used by twenty rules costs one lookup.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from voc.transforms.feedback_tokens import OPTIONAL_WORDS, Vocabulary, tokenize
from voc.transforms.numeric_evidence import UNIT_SECONDS

__all__ = [
    "CONCEPT_RE",
    "KIND_CONFIDENCE",
    "NumberTest",
    "Phrase",
    "Rule",
    "RuleError",
    "compile_phrase",
    "parse_number_test",
]

# A rule's confidence when the file does not give one: how often a match of that
# kind is the cause, all else equal. Exact phrases are the surest; words merely near
# each other, and bare numbers, less so; a regex says nothing about its own quality.
KIND_CONFIDENCE: Mapping[str, float] = {
    "phrase": 0.9,
    "near": 0.8,
    "number": 0.8,
    "regex": 0.75,
    "signal": 0.95,
}
CONCEPT_RE = re.compile(r"\{([a-z][a-z0-9_]*)\}")
_NUMBER_TEST_RE = re.compile(
    r"^\s*(duration|times)\s*(>=|<=|>|<|=)\s*(\d+(?:\.\d+)?)\s*([a-z]+)?"
    r"(?:\s+and\s*(>=|<=|>|<|=)\s*(\d+(?:\.\d+)?)\s*([a-z]+)?)?"
    r"(?:\s+near\s+(.+?))?(?:\s+within\s+(\d+))?\s*$"
)
# A rule may write a unit the way people abbreviate it; the text's own units are
# read by numeric_evidence (whose table this extends).
_UNIT_SECONDS = {
    **UNIT_SECONDS,
    "sec": 1,
    "min": 60,
    "mins": 60,
    "h": 3600,
    "hr": 3600,
    "hrs": 3600,
}
DEFAULT_NEAR_WINDOW = 8


class RuleError(ValueError):
    """A rule that cannot compile; the message names the problem for the author."""


# A slot's alternatives, each a sequence of roots (a concept member may be several words).
Slot = tuple[tuple[str, ...], ...]


# Longest list of word sequences one phrase may stand for; past it the phrase is
# refused with a message (split it, or use near), not compiled into a huge matcher.
MAX_SEQUENCES = 20_000


@dataclass(frozen=True)
class Phrase:
    """A compiled phrase: the slots it must match in order."""

    text: str
    slots: tuple[Slot, ...]

    def sequences(self) -> list[tuple[str, ...]]:
        """Every root sequence the phrase stands for (one alternative per slot)."""
        total = 1
        for slot in self.slots:
            total *= len(slot)
        if total > MAX_SEQUENCES:
            raise RuleError(
                f"phrase {self.text!r} stands for {total:,} word sequences (more than "
                f"{MAX_SEQUENCES:,}); split it, or use near"
            )
        combos: list[tuple[str, ...]] = [()]
        for slot in self.slots:
            combos = [combo + alternative for combo in combos for alternative in slot]
        return combos


@dataclass(frozen=True)
class NumberTest:
    """``KIND OP AMOUNT`` and optionally ``and OP AMOUNT`` (a range: "15 min .. 1 day")."""

    kind: str  # "duration" (seconds) or "times"
    operator: str
    threshold: float
    second: tuple[str, float] | None = None

    def holds(self, value: float) -> bool:
        if not _compare(value, self.operator, self.threshold):
            return False
        return self.second is None or _compare(value, *self.second)


def _compare(value: float, operator: str, threshold: float) -> bool:
    if operator == ">=":
        return value >= threshold
    if operator == ">":
        return value > threshold
    if operator == "<=":
        return value <= threshold
    if operator == "<":
        return value < threshold
    return value == threshold


@dataclass(frozen=True)
class Rule:
    """One way a cause is recognised; ``atoms`` index the taxonomy's atom table."""

    id: str  # "<cause>/<kind>/<n>", stable while the file's rule order is
    cause: int  # index into Taxonomy.causes (a sub-cause has its own index)
    kind: str  # phrase | near | number | regex | signal
    confidence: float
    negation: str = "veto"  # "veto": no match inside a negation; "ignore": match anyway
    atoms: tuple[int, ...] = ()  # phrase: its atom; near: side A; number: "near" side
    other_atoms: tuple[int, ...] = ()  # near: side B
    window: int = DEFAULT_NEAR_WINDOW
    number: NumberTest | None = None
    pattern: re.Pattern[str] | None = None
    signal_field: str = ""
    signal_threshold: float = 0.0
    source: str = ""  # the rule as written, for explanations
    atom_set: frozenset[int] = field(init=False, repr=False, compare=False)
    other_atom_set: frozenset[int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "atom_set", frozenset(self.atoms))
        object.__setattr__(self, "other_atom_set", frozenset(self.other_atoms))


def compile_phrase(
    text: str, concepts: Mapping[str, tuple[Phrase, ...]], vocabulary: Vocabulary
) -> Phrase:
    """Compile one phrase; concept references expand to their members' alternatives.

    Raises RuleError for an unknown concept or a phrase that can never match.
    """
    if any(mark in text for mark in ".!?;\n"):
        raise RuleError(
            f"phrase {text!r} contains a sentence break, and matches never cross sentences"
        )
    slots: list[Slot] = []
    small: set[int] = set()  # positions of filler words written in the phrase
    position = 0
    for found in CONCEPT_RE.finditer(text):
        _add_words(text[position : found.start()], vocabulary, slots, small)
        name = found.group(1)
        members = concepts.get(name)
        if members is None:
            raise RuleError(f"unknown concept {{{name}}}")
        slots.extend(_concept_slots(members))
        position = found.end()
    _add_words(text[position:], vocabulary, slots, small)
    # A phrase's small words between its first and last are optional ("hands are
    # tied" also reads "hands were tied"); its first and last words never are ("no
    # one did" must not shrink to "no one").
    last = len(slots) - 1
    slots = [
        slot
        for position, slot in enumerate(slots)
        if not 0 < position < last or position not in small
    ]
    if "{" in CONCEPT_RE.sub(" ", text) or "}" in CONCEPT_RE.sub(" ", text):
        raise RuleError(f"phrase {text!r} has a brace that is not a {{concept}} reference")
    if not slots:
        raise RuleError(f"phrase {text!r} has no words, so it can never match")
    return Phrase(text, tuple(slots))


def _add_words(words: str, vocabulary: Vocabulary, slots: list[Slot], small: set[int]) -> None:
    for token in tokenize(words, vocabulary):
        if token.word in OPTIONAL_WORDS:
            small.add(len(slots))
        slots.append(((token.root,),))


def _concept_slots(members: tuple[Phrase, ...]) -> list[Slot]:
    """A concept is one slot whose alternatives are its members' root sequences.

    Members that are themselves several slots (a member using another concept) are
    flattened to every combination, which stays small for real concept lists.
    """
    alternatives: list[tuple[str, ...]] = []
    for member in members:
        combos: list[tuple[str, ...]] = [()]
        for slot in member.slots:
            combos = [combo + alternative for combo in combos for alternative in slot]
        alternatives.extend(combos)
    return [tuple(dict.fromkeys(alternatives))]


def parse_number_test(text: str) -> tuple[NumberTest, list[str] | str | None, int]:
    """``"duration >= 15 min and < 1 day near [hold, queue] within 6"`` -> the test, the
    near side (a phrase, a {concept} or a [list]), and the window."""
    found = _NUMBER_TEST_RE.match(text.lower())
    if found is None:
        raise RuleError(
            f"number rule {text!r} must read like 'duration >= 30 min' or "
            "'times >= 3 near {transfer}' (kinds: duration, times)"
        )
    kind, operator, amount, unit, operator2, amount2, unit2, near, window = found.groups()
    threshold = _amount(text, kind, amount, unit)
    second = (operator2, _amount(text, kind, amount2, unit2 or unit)) if operator2 else None
    side: list[str] | str | None = near.strip() if near else None
    if isinstance(side, str) and side.startswith("[") and side.endswith("]"):
        side = [item.strip() for item in side[1:-1].split(",") if item.strip()]
    return (
        NumberTest(kind, operator, threshold, second),
        side,
        int(window) if window else DEFAULT_NEAR_WINDOW,
    )


def _amount(text: str, kind: str, amount: str, unit: str | None) -> float:
    value = float(amount)
    if kind == "duration":
        if unit is None or unit not in _UNIT_SECONDS:
            raise RuleError(
                f"number rule {text!r}: a duration needs a unit "
                f"({', '.join(sorted(set(_UNIT_SECONDS)))})"
            )
        return value * _UNIT_SECONDS[unit]
    if unit is not None and unit not in ("time", "times"):
        raise RuleError(f"number rule {text!r}: a count takes no unit, got {unit!r}")
    return value
