"""Friction facts: the complaints customers state without a single feeling word.

"On hold 45 minutes and transferred three times" scores 0.000 with VADER, and so
do "my parcel never arrived", "third time calling" and "was promised a callback".
Support staff read every one of them as a complaint. This module finds such facts
in a text's feedback tokens, so the sentiment layer can count them as negative:

* a wait or delay long enough to mention (numeric_evidence's durations), but not
  a speed ("in 5 minutes", "within a day") or a history ("customer for 10 years");
* something repeated or persisting: "3 times", "third time", "again" (not "would
  order again"), "another outage", "still waiting", "still not fixed";
* an expected outcome negated: "never arrived", "nobody answered", "not refunded";
* a reported promise, which customers only mention when it was broken;
* a word whose root means something went wrong ("disconnected", "queueing").

Trouble put right is not a complaint: a clause that reports a remedy ("fixed the
leak", "lost bag found", "refunded the fraudulent charges") states no friction.
Friction words VADER already scores negative are left to VADER, so nothing is
counted twice. Everything works on word roots, so inflections need no listing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from voc.transforms.feedback_tokens import Token, root_of
from voc.transforms.match_root_causes import negation_scope
from voc.transforms.numeric_evidence import (
    DURATION,
    TIMES,
    Quantity,
    find_quantities,
    may_hold_quantities,
)

__all__ = [
    "FRICTION_ROOTS",
    "LOYALTY_ROOTS",
    "PROMISE_ROOTS",
    "REMEDY_ROOTS",
    "WAIT_ROOTS",
    "Friction",
    "friction_facts",
    "negated_tokens",
    "remedied_clauses",
    "root_set",
    "word_set",
]

# A duration is friction from this long (a 15-minute wait is worth mentioning) unless
# it is a speed ("in 5 minutes", "within a day") or a loyalty claim ("customer for 10
# years", longer than LONGEST_WAIT).
SHORTEST_WAIT = 15 * 60
LONGEST_WAIT = 120 * 24 * 3600


def word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


def root_set(words: str) -> frozenset[str]:
    return frozenset(root_of(word) for word in words.split())


# Roots whose word means something went wrong in the service, whatever its form:
# "disconnected", "disconnects", "delays", "queueing", "chased", "overdue".
FRICTION_ROOTS = root_set(
    "disconnect delay delayed cancel cancelled wait waiting waited queue queued chase "
    "chasing overdue pending outage reschedule redirect bounce "
    "lost lose missing stuck hung drop dropped declined rejected ignored unanswered "
    "late crash freeze frozen glitch error fail break breaks broken faulty defective damaged "
    "leak leaking overcharged unresolved escalate increase hike doubled tripled "
    "delete deleted wipe wiped erase corrupt snapped cracked torn ripped mould mouldy "
    "moldy stain stained dented scratched squashed smashed shattered swollen rotten "
    "stale expired slow slowed overheat overheating"
)
# Outcomes a customer expects; negated, each is a complaint ("never arrived", "not
# received", "nobody answered", "hasn't been refunded").
OUTCOME_ROOTS = root_set(
    "arrive arrived receive received deliver delivered work working respond responded "
    "reply replied answer answered call called fix fixed resolve resolved refund refunded "
    "show showed hear heard process processed connect connected load loaded update "
    "updated credit credited return returned contact contacted ship shipped come came "
    "get got send sent help helped turn pay paid give gave sign signed apply "
    "applied move moved explain explained tell told inform informed notify notified "
    "consent agree agreed ok okay read listen listened reach reached pair sync notice warning "
    "permission explanation upload download install log login access use open find"
)
# The tokenizer spells every contraction out ("can't", "cant", "hasnt" are "... not"),
# so "not" stands for all of them.
NEGATION_WORDS = word_set("not no never nobody nothing none nowhere neither nor without")
_NEGATION_ROOTS = frozenset(root_of(word) for word in NEGATION_WORDS)
FRICTION_NEGATION_WINDOW = 3
# "again" after these is loyalty ("would order again"), not a repeat of trouble.
LOYALTY_ROOTS = root_set("buy order use shop book fly stay recommend come visit choose purchase")
_INTENT_WORDS = word_set("would will definitely d gladly happily")
# "another" before these is more of the same trouble.
_TROUBLE_UNITS = root_set("hour day week month minute call agent email ticket chat month")
WAIT_ROOTS = root_set("wait waiting waited hold queue took take spent spend sat sit")
_SPEED_WORDS = word_set("in within under only just less about")

# A customer reports a promise when it was broken: "was promised a callback",
# "I was told the fee would be waived", "it was supposed to arrive Monday".
PROMISE_ROOTS = root_set("promised told assured guaranteed quoted supposed advertised")
_REPORTERS = word_set("was were been am is are i we they you he she it")
# A request for one of these is a complaint: something has to be put right.
REMEDY_ROOTS = root_set(
    "refund refunded remove correct corrected fix sort reverse waive compensate "
    "compensation reimburse replace replacement resolve investigate explain escalate"
)
# Verbs that report trouble put right, in a past or -ing form.
_REMEDY_DONE_ROOTS = root_set(
    "fixed replaced refunded sorted resolved waived found solved repaired reimbursed "
    "compensated rebooked credited recovered restored reconnected"
)
_REMEDY_DONE_WORDS = word_set("found sorted back")


class Friction(NamedTuple):
    facts: dict[int, int]  # sentence number -> friction facts it states
    remedied: set[int]  # clause numbers that report trouble put right


def friction_facts(
    tokens: list[Token], lexicon: dict[str, float], quantities: list[Quantity] | None = None
) -> Friction:
    """How many friction facts each sentence states (see the module docstring), and
    the clauses that report a remedy. ``quantities``: the tokens' durations and
    counts, if the caller has them.

    A friction word VADER already scores negative ("delayed", "broken") is left to
    VADER: counted twice it would outweigh everything else in the sentence.
    """
    facts: dict[int, int] = {}
    if not tokens:
        return Friction(facts, set())

    def add(sentence: int) -> None:
        facts[sentence] = facts.get(sentence, 0) + 1

    negated = negated_tokens(tokens)
    remedied = remedied_clauses(tokens, negated)
    if quantities is None:
        quantities = find_quantities(tokens) if may_hold_quantities(tokens) else []
    for quantity in quantities:
        if tokens[quantity.first].clause in remedied:
            continue
        if (quantity.kind == TIMES and quantity.value >= 2) or (
            quantity.kind == DURATION and _is_wait(quantity, tokens)
        ):
            add(quantity.sentence)
    last = len(tokens) - 1
    for index, token in enumerate(tokens):
        word = token.word
        if token.clause in remedied:
            continue
        if word == "again" and not _is_loyalty(tokens[max(0, index - 3) : index]):
            add(token.sentence)  # "down again", "had to call again"; not "would buy again"
        elif word == "another" and _is_more_trouble(tokens[index + 1 : index + 3], lexicon):
            add(token.sentence)  # "another outage", "another 2 weeks"
        elif word == "still" and index < last and _persists(tokens[index + 1 : index + 3]):
            add(token.sentence)  # "still waiting", "still not fixed", "still no refund"
        elif token.root in PROMISE_ROOTS and index and tokens[index - 1].word in _REPORTERS:
            add(token.sentence)  # "was promised a callback", "I was told it was waived"
        elif lexicon.get(word, 0.0) < 0:
            continue
        elif (token.root in OUTCOME_ROOTS and negated[index]) or (
            token.root in FRICTION_ROOTS and not negated[index]
        ):
            add(token.sentence)
    return Friction(facts, remedied)


def remedied_clauses(tokens: Sequence[Token], negated: Sequence[bool] | None = None) -> set[int]:
    """Clauses that report trouble put right: "fixed the leak", "refunded the fraudulent
    charges", "thanks for sorting my wrong item", "lost bag found". The trouble in
    them is the story of a good outcome, not a complaint. A remedy that did not
    happen ("not fixed", "never refunded") remedies nothing."""
    flags = negated if negated is not None else negated_tokens(list(tokens))
    clauses: set[int] = set()
    for index, token in enumerate(tokens):
        if token.root in _REMEDY_DONE_ROOTS and not flags[index]:
            word = token.word
            if word.endswith(("ed", "ing")) or word in _REMEDY_DONE_WORDS:
                clauses.add(token.clause)
    return clauses


def _is_loyalty(before: Sequence[Token]) -> bool:
    return any(token.root in LOYALTY_ROOTS or token.word in _INTENT_WORDS for token in before)


def _is_more_trouble(following: Sequence[Token], lexicon: dict[str, float]) -> bool:
    return any(
        token.root in FRICTION_ROOTS
        or token.root in _TROUBLE_UNITS
        or token.word[:1].isdigit()
        or lexicon.get(token.word, 0.0) < 0
        for token in following
    )


def _persists(following: Sequence[Token]) -> bool:
    return any(
        token.root in _NEGATION_ROOTS or token.root in FRICTION_ROOTS or token.root in WAIT_ROOTS
        for token in following
    )


def negated_tokens(tokens: list[Token]) -> list[bool]:
    """Whether each token follows a negation within three words of its clause: a
    shorter reach than a rule's, because a fact is usually the next thing denied."""
    return negation_scope(tokens, FRICTION_NEGATION_WINDOW, _NEGATION_ROOTS, frozenset())


def _is_wait(quantity: Quantity, tokens: list[Token]) -> bool:
    """A duration that is time the customer lost, not a speed or a history."""
    if quantity.limit or not SHORTEST_WAIT <= quantity.value <= LONGEST_WAIT:
        return False
    before = tokens[quantity.first - 1].word if quantity.first else ""
    return before not in _SPEED_WORDS
