"""Find the root causes in one feedback text, each with its evidence and a confidence.

The text is tokenized once (voc.transforms.feedback_tokens), every phrase and
concept the taxonomy uses (its *atoms*) is found in one pass over the tokens, and
the rules combine those occurrences: a phrase rule is one atom, a near rule two
atoms close together, a number rule a duration or count passing a test. So the cost
grows with the text, not with the number of rules.

Two things stop a match. A match that starts inside a negation ("I was *not*
charged twice", "*no* problem with the delivery") does not count unless its rule
says ``negation: ignore``; a negation word that is part of the rule itself ("never
arrived") is not a negation of it. And a cause's ``exclude`` phrases, found in the
text and not negated, veto the cause.

Multi-label: every cause with a surviving match is reported, in taxonomy order;
feedback with none is ``unclassified`` and routed to triage, never a forced guess.
A cause's confidence combines its rules' confidences as independent evidence
(1 - the product of their complements).

The module has no Beam dependency: the pipeline wraps these pure functions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import NamedTuple

from voc.transforms.cause_rules import Rule
from voc.transforms.feedback_tokens import FILLER_WORDS, NEGATION_ROOT, Token, root_of, tokenize
from voc.transforms.numeric_evidence import (
    DURATION,
    QUANTITY_WORDS,
    Quantity,
    find_quantities,
    may_hold_quantities,
)
from voc.transforms.records import CauseMatch, Evidence
from voc.transforms.taxonomy import (
    BUILTIN_CONCEPTS,
    END,
    TRIAGE_DEPARTMENT,
    UNCLASSIFIED,
    Taxonomy,
)

__all__ = [
    "EVIDENCE_SEPARATOR",
    "MAX_EVIDENCE",
    "Hit",
    "find_hits",
    "match_root_causes",
    "negation_scope",
]

MAX_EVIDENCE = 3
EVIDENCE_SEPARATOR = " | "
MAX_CONFIDENCE = 0.99
_DIGIT = re.compile(r"\d")

# Up to this many filler words (feedback_tokens.FILLER_WORDS) may stand between the
# words of a phrase, so "charged twice" also matches "charged me twice" and "{order}
# never arrived" matches "my order has still never arrived".
MAX_GAP = 2
# A negation reaches this many words forward, and stops at a clause break or at a
# word that starts another clause ("not the app, but the billing is wrong"; "no
# speaker because it died").
NEGATION_WINDOW = 5
NEGATION_ROOTS = frozenset(root_of(word) for word in BUILTIN_CONCEPTS["not"]) | {NEGATION_ROOT}
_CLAUSE_STARTS = (
    "but however although though except instead whereas while because since so and then which who"
)
_SCOPE_ENDS = frozenset(root_of(word) for word in _CLAUSE_STARTS.split())


class Hit(NamedTuple):
    """One rule firing on one place of the text; ``vetoed`` says why it does not
    count ("negated", "excluded by ..."), or is empty when it does."""

    rule: Rule
    start: int
    end: int
    vetoed: str = ""
    detail: str = ""  # a signal's "field=value", which is not in the text


def match_root_causes(
    text: str,
    taxonomy: Taxonomy,
    signals: Mapping[str, object] | None = None,
    tokens: list[Token] | None = None,
    quantities: list[Quantity] | None = None,
) -> list[CauseMatch]:
    """The causes of one text (multi-label, taxonomy order), or [unclassified].

    ``tokens``: the text tokenized with ``taxonomy.vocabulary``, and ``quantities``
    its durations and counts, when the caller already has them (tagging shares
    them with sentiment).
    """
    hits = [hit for hit in find_hits(text, taxonomy, signals, tokens, quantities) if not hit.vetoed]
    if not hits:
        return [CauseMatch(UNCLASSIFIED, TRIAGE_DEPARTMENT, "")]
    return _to_matches(text, hits, taxonomy)


def find_hits(
    text: str,
    taxonomy: Taxonomy,
    signals: Mapping[str, object] | None = None,
    tokens: list[Token] | None = None,
    quantities: list[Quantity] | None = None,
) -> list[Hit]:
    """Every rule firing, vetoed ones included (``voc taxonomy explain`` shows them)."""
    hits: list[Hit] = []
    if tokens is None:
        tokens = tokenize(text, taxonomy.vocabulary) if text else []
    negated = negation_scope(tokens)
    found = _find_atoms(tokens, taxonomy.trie) if tokens else {}
    excluded = _excluded_causes(found, negated, taxonomy)
    rules = taxonomy.rules
    candidates: set[int] = set()
    for atom in found:
        candidates.update(taxonomy.rules_by_atom.get(atom, ()))
    if taxonomy.number_rules and tokens and (quantities or _may_hold_quantities(text, tokens)):
        if quantities is None:
            quantities = find_quantities(tokens)
        for position in taxonomy.number_rules if quantities else ():
            hits.extend(_number_hits(rules[position], quantities, found, tokens, negated))
    for position in taxonomy.regex_rules if text else ():
        rule = rules[position]
        assert rule.pattern is not None
        match = rule.pattern.search(text)
        if match is not None:
            hits.append(Hit(rule, match.start(), match.end()))
    for position in taxonomy.signal_rules if signals else ():
        rule = rules[position]
        value = signals.get(rule.signal_field)  # type: ignore[union-attr]
        if _reaches(value, rule.signal_threshold):
            hits.append(Hit(rule, -1, -1, detail=f"{rule.signal_field}={_format_number(value)}"))
    present = found.keys()
    for position in sorted(candidates):
        rule = rules[position]
        if rule.kind == "phrase":
            for first, last in found[rule.atoms[0]]:
                hits.append(_text_hit(rule, first, last, tokens, negated))
        elif rule.kind == "near" and rule.other_atom_set & present and rule.atom_set & present:
            hits.extend(_near_hits(rule, found, tokens, negated))
    if excluded:
        hits = [
            Hit(hit.rule, hit.start, hit.end, hit.vetoed or excluded[hit.rule.cause], hit.detail)
            if hit.rule.cause in excluded
            else hit
            for hit in hits
        ]
    return hits


# ----------------------------------------------------------------------- atoms


def _find_atoms(tokens: list[Token], trie: dict) -> dict[int, list[tuple[int, int]]]:
    """Every occurrence (first token, last token) of every atom: one trie walk per token."""
    found: dict[int, list[tuple[int, int]]] = {}
    for position, token in enumerate(tokens):
        node = trie.get(token.root)
        if node is not None:
            _walk(node, tokens, position, position + 1, token.sentence, found)
    return found


def _walk(
    node: dict,
    tokens: list[Token],
    start: int,
    position: int,
    sentence: int,
    found: dict[int, list[tuple[int, int]]],
) -> None:
    """Follow the trie from ``node``; up to MAX_GAP filler words may be skipped before
    each next word. Records the first (shortest) occurrence of each atom per start."""
    ends = node.get(END)
    if ends is not None:
        for atom in ends:
            spans = found.get(atom)
            if spans is None:
                found[atom] = [(start, position - 1)]
            elif spans[-1][0] != start:
                spans.append((start, position - 1))
        if len(node) == 1:
            return
    count = len(tokens)
    limit = position + MAX_GAP
    while position < count and position <= limit:
        token = tokens[position]
        if token.sentence != sentence:
            return
        child = node.get(token.root)
        if child is not None:
            _walk(child, tokens, start, position + 1, sentence, found)
        if token.word not in FILLER_WORDS:
            return
        position += 1


def negation_scope(
    tokens: list[Token],
    window: int = NEGATION_WINDOW,
    negations: frozenset[str] = NEGATION_ROOTS,
    ends: frozenset[str] = _SCOPE_ENDS,
) -> list[bool]:
    """True for each token inside a negation's reach (the negation word itself is not):
    up to ``window`` words after a root in ``negations``, within its clause, until a
    root in ``ends``. Rules use the defaults; sentiment's friction facts a shorter
    window (voc.transforms.friction_facts)."""
    negated = [False] * len(tokens)
    reach = 0
    clause = -1
    for position, token in enumerate(tokens):
        if token.clause != clause or token.root in ends:
            reach = 0
        if token.root in negations:
            reach = window
            clause = token.clause
            continue
        if reach:
            negated[position] = True
            reach -= 1
    return negated


def _excluded_causes(
    found: Mapping[int, list[tuple[int, int]]], negated: list[bool], taxonomy: Taxonomy
) -> dict[int, str]:
    excluded: dict[int, str] = {}
    for atom, spans in found.items():
        causes = taxonomy.excluded_by_atom.get(atom)
        if causes is None:
            continue
        if any(not negated[first] for first, _ in spans):
            for cause in causes:
                excluded.setdefault(cause, f"excluded by {taxonomy.atoms[atom].text!r}")
    return excluded


# ----------------------------------------------------------------------- rules


def _text_hit(rule: Rule, first: int, last: int, tokens: list[Token], negated: list[bool]) -> Hit:
    vetoed = "negated" if negated[first] and rule.negation == "veto" else ""
    return Hit(rule, tokens[first].start, tokens[last].end, vetoed)


def _near_hits(
    rule: Rule,
    found: Mapping[int, list[tuple[int, int]]],
    tokens: list[Token],
    negated: list[bool],
) -> list[Hit]:
    # ``found`` holds the few atoms of this text; a side may list dozens of phrases
    side_a = [span for atom, spans in found.items() if atom in rule.atom_set for span in spans]
    side_b = [
        span for atom, spans in found.items() if atom in rule.other_atom_set for span in spans
    ]
    if not side_a or not side_b:
        return []
    best: Hit | None = None
    for first_a, last_a in side_a:
        for first_b, last_b in side_b:
            if tokens[first_a].sentence != tokens[first_b].sentence:
                continue
            if last_a < first_b:
                gap = first_b - last_a - 1
            elif last_b < first_a:
                gap = first_a - last_b - 1
            else:
                continue  # the same words cannot be both sides
            if gap > rule.window:
                continue
            hit = _text_hit(rule, min(first_a, first_b), max(last_a, last_b), tokens, negated)
            if not hit.vetoed:
                return [hit]
            best = best or hit
    return [best] if best else []


def _number_hits(
    rule: Rule,
    quantities: list[Quantity],
    found: Mapping[int, list[tuple[int, int]]],
    tokens: list[Token],
    negated: list[bool],
) -> list[Hit]:
    assert rule.number is not None
    for quantity in quantities:
        if quantity.kind != rule.number.kind or not rule.number.holds(quantity.value):
            continue
        if quantity.limit and quantity.kind == DURATION:
            continue
        if not rule.atoms:
            return [_text_hit(rule, quantity.first, quantity.last, tokens, negated)]
        for atom in rule.atoms:
            for first, last in found.get(atom, ()):
                # a count or duration qualifies words of its own clause: in "charged
                # twice, call me back" the count is not about the call
                if tokens[first].clause != tokens[quantity.first].clause:
                    continue
                gap = max(first - quantity.last - 1, quantity.first - last - 1)
                if 0 <= gap <= rule.window or (first <= quantity.last and last >= quantity.first):
                    start = min(first, quantity.first)
                    return [_text_hit(rule, start, max(last, quantity.last), tokens, negated)]
    return []


def _may_hold_quantities(text: str, tokens: list[Token]) -> bool:
    """Cheap test before find_quantities: a unit or time word, and a digit or a word
    that can start a count or a duration ("three", "twice", "an hour")."""
    if not may_hold_quantities(tokens):
        return False
    if _DIGIT.search(text) is not None:
        return True
    return not QUANTITY_WORDS.isdisjoint([token.word for token in tokens])


def _reaches(value: object, threshold: float) -> bool:
    """True when a numeric signal value meets its threshold; bools are not numbers here."""
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return value >= threshold


# ----------------------------------------------------------------------- results


def _to_matches(text: str, hits: list[Hit], taxonomy: Taxonomy) -> list[CauseMatch]:
    """One CauseMatch per top-level cause, with its strongest sub-cause."""
    causes = taxonomy.causes
    by_cause: dict[int, dict[str, Evidence]] = {}
    for hit in hits:
        rule = hit.rule
        words = hit.detail if hit.start < 0 else text[hit.start : hit.end]
        evidence = Evidence(rule.id, hit.start, hit.end, rule.confidence, words)
        strongest = by_cause.setdefault(rule.cause, {})
        known = strongest.get(rule.id)
        if known is None or known.start > evidence.start:
            strongest[rule.id] = evidence
    order = {cause.id: position for position, cause in enumerate(causes)}
    tops: dict[int, list[tuple[int, list[Evidence]]]] = {}
    for cause_index, evidences in by_cause.items():
        cause = causes[cause_index]
        top = order[cause.top]
        tops.setdefault(top, []).append((cause_index, list(evidences.values())))
    matches: list[CauseMatch] = []
    for top in sorted(tops):
        spans = sorted(
            (e for _, evidences in tops[top] for e in evidences),
            key=lambda e: (-e.confidence, e.start),
        )
        subs = [
            (_combine(evidences), causes[index].id)
            for index, evidences in tops[top]
            if causes[index].parent is not None
        ]
        sub_cause = max(subs)[1] if subs else ""
        cause = causes[top]
        matches.append(
            CauseMatch(
                cause_id=cause.id,
                department=cause.department,
                evidence=EVIDENCE_SEPARATOR.join(_readable(spans)),
                sub_cause_id=sub_cause,
                confidence=_combine(spans),
                spans=tuple(spans),
            )
        )
    return matches


def _combine(evidences: list[Evidence]) -> float:
    remaining = 1.0
    for evidence in evidences:
        remaining *= 1.0 - evidence.confidence
    return round(min(MAX_CONFIDENCE, 1.0 - remaining), 4)


def _readable(spans: list[Evidence]) -> list[str]:
    """Up to MAX_EVIDENCE distinct, non-overlapping snippets in reading order."""
    chosen: list[tuple[int, str]] = []
    taken: list[tuple[int, int]] = []
    seen: set[str] = set()
    for span in spans:
        words = span.text.strip()
        key = words.lower()
        if not words or key in seen:
            continue
        if span.start >= 0 and any(span.start < end and start < span.end for start, end in taken):
            continue
        seen.add(key)
        chosen.append((span.start, words))
        taken.append((span.start, span.end))
        if len(chosen) == MAX_EVIDENCE:
            break
    return [words for _, words in sorted(chosen)]


def _format_number(value: object) -> str:
    """Print 900 and 900.0 alike so evidence does not depend on JSON number types."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
