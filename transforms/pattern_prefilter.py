"""Which of many regular expressions can possibly match a text, from one scan of it.

Root-cause matching (voc.transforms.match_root_causes) runs on every survey comment
and agent note in a streaming pipeline. Running every pattern of every cause over
every text is far too slow in Python's regex engine (hundreds of microseconds a
text), while a single combined regex silently loses causes whose matches overlap. So
each pattern is analysed once, when the taxonomy is loaded, for the literal strings
any of its matches must contain; a single scan of the lower-cased text for all of
those strings then tells which few patterns can possibly match, and only those run.
The answers are identical to running every pattern; only the work differs.

The analysis reads patterns with the standard library's own regex parser and errs
only towards running a pattern: a pattern it cannot understand always runs. This
module builds the index when a taxonomy is made; using it on a text is part of the
matcher's hot loop, in match_root_causes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["LiteralScanner", "PatternIndex", "build_index"]


@dataclass(frozen=True)
class LiteralScanner:
    """One pass over the lower-cased text reporting which required literals occur."""

    regex: re.Pattern[str]
    # literal -> (pattern id, bit of the required set it satisfies, is that set
    # leading) for the literal and all its prefixes
    entries: Mapping[str, tuple[tuple[int, int, bool], ...]]


@dataclass(frozen=True)
class PatternIndex:
    """Precomputed lookup that lets match_root_causes run only patterns that can match.

    Pattern i needs one literal from each of its required sets, set k setting bit k;
    a pattern whose mask is complete after scanning is worth running, the others
    cannot match. When a pattern's set 0 is "leading" (every match starts with one
    of its strings) the pattern is tried with re.match only where those were seen.
    """

    scanners: tuple[LiteralScanner, ...]
    full_masks: tuple[int, ...]  # pattern id -> mask with every required set satisfied
    always: tuple[int, ...]  # patterns without usable literals: always run
    patterns: tuple[re.Pattern[str], ...]  # pattern id -> compiled pattern
    owners: tuple[int, ...]  # pattern id -> index of its cause


def build_index(pattern_groups: Sequence[Sequence[re.Pattern[str]]]) -> PatternIndex:
    """Analyse every pattern for required literals and build the scanners.

    One group of patterns per cause; a pattern's owner is its group's position.
    """
    patterns: list[re.Pattern[str]] = []
    owners: list[int] = []
    full_masks: list[int] = []
    always: list[int] = []
    at_word_start: dict[str, list[tuple[int, int, bool]]] = {}
    anywhere: dict[str, list[tuple[int, int, bool]]] = {}
    for owner, group in enumerate(pattern_groups):
        for pattern in group:
            pattern_id = len(patterns)
            patterns.append(pattern)
            owners.append(owner)
            required, has_leading = _required_literal_sets(pattern)
            full_masks.append((1 << len(required)) - 1)
            if not required:
                always.append(pattern_id)
            for set_number, (literals, anchored) in enumerate(required):
                target = at_word_start if anchored else anywhere
                entry = (pattern_id, 1 << set_number, has_leading and set_number == 0)
                # The start of a required string is required too, and shorter
                # strings make a smaller, shallower scanner that runs faster.
                for literal in {literal[:_MAX_LITERAL] for literal in literals}:
                    target.setdefault(literal, []).append(entry)
    scanners = tuple(
        _make_scanner(literals, prefix)
        for literals, prefix in ((at_word_start, r"\b"), (anywhere, ""))
        if literals
    )
    return PatternIndex(
        scanners=scanners,
        full_masks=tuple(full_masks),
        always=tuple(always),
        patterns=tuple(patterns),
        owners=tuple(owners),
    )


def _make_scanner(direct: Mapping[str, list[tuple[int, int, bool]]], prefix: str) -> LiteralScanner:
    """Build a scanner for the literals in direct, tried only where prefix holds.

    The scanner reports only the longest literal starting at each position; every
    other literal starting there is a prefix of it, so each literal also carries
    the entries of all its prefixes.
    """
    entries: dict[str, tuple[tuple[int, int, bool], ...]] = {}
    for literal in direct:
        found: set[tuple[int, int, bool]] = set()
        for end in range(1, len(literal) + 1):
            found.update(direct.get(literal[:end], ()))
        entries[literal] = tuple(sorted(found))
    regex = re.compile(prefix + "(?=(" + _trie_regex(sorted(entries)) + "))", re.DOTALL)
    return LiteralScanner(regex, entries)


def _trie_regex(words: Sequence[str]) -> str:
    """Compile a word list to a trie-shaped alternation so each position costs one branch.

    A flat "a|b|c" alternation tries every word at every position; nesting by
    shared prefixes lets the engine reject a position after one character.
    """
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: dict[str, Any]) -> str:
        branches = [re.escape(char) + build(child) for char, child in node.items() if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if "" in node:
            return "(?:" + body + ")?"
        return body

    return build(trie)


# Runs are combined by cross product ("(?:on|in) hold" -> "on hold", "in hold");
# past this size a set stops being cheaper than running the pattern.
_MAX_ALTERNATIVES = 64
# Strings shorter than this occur in nearly every text and filter nothing.
_MIN_LITERAL = 3
_MIN_LEADING = 2
_MAX_LITERAL = 10
# Words in nearly every English text: a required set containing one filters little
# and costs a scanner hit per occurrence, so such sets are chosen last.
_COMMON_WORDS_TEXT = """
a an and are as at be but by can do for from get got had has have he her his i if in is it
its me my no not of on or our she so than that the their them they this to up us was we
were what when will with you your
"""
_COMMON_WORDS = frozenset(_COMMON_WORDS_TEXT.split())
# Requiring more sets filters better but costs a little per scanner hit.
_MAX_SETS = 2
_WORD_CHAR = re.compile(r"\w")
_BOUNDARY_CODES = frozenset({"AT_BOUNDARY", "AT_BEGINNING", "AT_BEGINNING_STRING"})
_NON_WORD_CATEGORIES = frozenset({"CATEGORY_SPACE", "CATEGORY_NOT_WORD"})

# A string a match must contain, and whether it is known to start at a word boundary.
_Piece = tuple[str, bool]
# Strings of which every match contains at least one.
_Alternatives = frozenset[_Piece]
# The scanner's view of one such set: the strings, and whether all start words.
_Required = tuple[frozenset[str], bool]
_EMPTY_RUN: _Alternatives = frozenset({("", False)})


def _required_literal_sets(pattern: re.Pattern[str]) -> tuple[tuple[_Required, ...], bool]:
    """Return sets of lower-case strings of which every match contains one of each.

    The second value says whether the first set is "leading": every match starts
    with one of its strings, so the pattern need only be tried where the scanner
    saw one, with re.match, instead of searched for across the whole text. An
    empty result means "no usable literal": the pattern always runs. Sets whose
    strings start words are preferred because their scanner tries word starts
    only. Uses the standard library's regex parser, which is private; should it
    change shape, patterns simply lose the prefilter (slower, never wrong).
    """
    try:
        from re import _constants as constants  # type: ignore[attr-defined]
        from re import _parser as parser  # type: ignore[attr-defined]

        items = list(parser.parse(pattern.pattern, pattern.flags))
        end, found = _analyse(items, constants, _Walk(boundary=True))
        prefixes, _, _ = _leading(items, constants, _EMPTY_RUN, True)
    except Exception:
        return (), False
    if end.run != _EMPTY_RUN:
        found.append(end.run)
    usable = {r for r in map(_to_required, found) if min(map(len, r[0])) >= _MIN_LITERAL}
    leading: _Required | None = _to_required(prefixes)
    # A leading string only decides where re.match is tried, so a short one such as
    # "ad" still pays off as long as the scanner need only try word starts.
    if leading is None or not leading[1] or min(map(len, leading[0])) < _MIN_LEADING:
        leading = None
    ranked = sorted(
        usable - {leading},
        key=lambda r: (not r[1], _is_common(r[0]), -min(map(len, r[0])), len(r[0]), sorted(r[0])),
    )
    if leading is not None:
        ranked.insert(0, leading)
    if ranked and ranked[0][1]:
        # Mixing in sets for the slower any-position scanner costs more than it saves.
        ranked = [r for r in ranked if r[1]]
    chosen = tuple(ranked[:_MAX_SETS])
    return chosen, bool(chosen) and chosen[0] == leading


def _leading(
    items: list[Any], c: Any, run: _Alternatives, boundary: bool
) -> tuple[_Alternatives, bool, bool]:
    """Return (strings every match of items starts with, items fully literal?, boundary after).

    Follows literal text and alternations of literal text from the start of the
    pattern, stopping at the first item that may vary; run holds the prefixes so
    far and boundary whether the current position follows \b or a non-word char.
    """
    for op, av in items:
        if op is c.AT:
            boundary = boundary or str(av) in _BOUNDARY_CODES
        elif op in (c.ASSERT, c.ASSERT_NOT):
            continue
        elif op is c.LITERAL and (chr(av).isascii() or chr(av).lower() == chr(av).upper()):
            char = chr(av)
            run = frozenset(
                (text + char.lower(), starts_word if text else boundary)
                for text, starts_word in run
            )
            boundary = not _WORD_CHAR.match(char)
        elif op is c.SUBPATTERN or op is c.ATOMIC_GROUP:
            sub = av[-1] if op is c.SUBPATTERN else av
            run, complete, boundary = _leading(list(sub), c, run, boundary)
            if not complete:
                return run, False, False
        elif op is c.BRANCH:
            results = [_leading(list(alternative), c, run, boundary) for alternative in av[1]]
            union = frozenset().union(*(prefixes for prefixes, _, _ in results))
            if len(union) > _MAX_ALTERNATIVES:
                return run, False, False
            run = union
            if not all(complete for _, complete, _ in results):
                return run, False, False
            boundary = all(after for _, _, after in results)
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
            low, high, sub = av
            if low == 0:
                return run, False, False
            sub_run, complete, after = _leading(list(sub), c, run, boundary)
            if not (complete and low == high == 1):
                return sub_run, False, False
            run, boundary = sub_run, after
        else:
            return run, False, False
    return run, True, boundary


def _is_common(strings: frozenset[str]) -> bool:
    """True when a set contains a word found in most texts, so it hardly filters anything."""
    return any(text.strip(" '-") in _COMMON_WORDS for text in strings)


def _to_required(alternatives: _Alternatives) -> _Required:
    """Make every string provably start a word, if possible, so the fast scanner can use it.

    A string known to follow \b and starting with a word character qualifies as it
    is. Otherwise its tail after the first non-word -> word transition (" hold" ->
    "hold") does, since that tail necessarily follows a non-word character.
    """
    plain = frozenset(text for text, _ in alternatives)
    anchored: set[str] = set()
    for text, starts_word in alternatives:
        if starts_word and text and _WORD_CHAR.match(text[0]):
            anchored.add(text)
            continue
        tail = next(
            (
                text[i:]
                for i in range(1, len(text))
                if not _WORD_CHAR.match(text[i - 1]) and _WORD_CHAR.match(text[i])
            ),
            None,
        )
        if tail is None:
            return plain, False
        anchored.add(tail)
    return frozenset(anchored), True


def _strength(alternatives: _Alternatives) -> tuple[bool, bool, int, int]:
    """Rank sets: usable length first, then word-anchored, then longest shortest string."""
    strings, anchored = _to_required(alternatives)
    shortest = min(map(len, strings))
    return (shortest >= _MIN_LITERAL, anchored, shortest, -len(strings))


@dataclass(frozen=True)
class _Walk:
    """Where the analysis stands between two items of a parsed pattern.

    run: the literal run still open, one string per path through the pattern so far;
    boundary: the current position follows \b, a non-word character or the start,
    so a word character here starts a word.
    """

    run: _Alternatives = _EMPTY_RUN
    boundary: bool = False


def _analyse(items: list[Any], c: Any, state: _Walk) -> tuple[_Walk, list[_Alternatives]]:
    """Walk a parsed sequence, threading the open literal run through groups.

    Literal characters extend the open run; anything that may vary ends it, and
    every finished run becomes a required set. Groups and alternations continue
    the run, so the parser's factoring of "refund|reimbursement" into
    "re(?:fund|imbursement)" still yields whole words. Zero-width items (\b,
    look-arounds) consume no text, so they never end a run.
    """
    found: list[_Alternatives] = []

    def flushed(walk: _Walk, boundary: bool) -> _Walk:
        if walk.run != _EMPTY_RUN:
            found.append(walk.run)
        return _Walk(_EMPTY_RUN, boundary)

    for op, av in items:
        if op is c.AT:
            if str(av) in _BOUNDARY_CODES:
                state = _Walk(state.run, True)
        elif op in (c.ASSERT, c.ASSERT_NOT):
            continue
        elif op is c.LITERAL:
            char = chr(av)
            if char.isascii() or char.lower() == char.upper():
                lowered = char.lower()
                # A string starting here starts a word if the position follows a boundary.
                run = frozenset(
                    (text + lowered, starts_word if text else state.boundary)
                    for text, starts_word in state.run
                )
                state = _Walk(run, not _WORD_CHAR.match(char))
            else:
                state = flushed(state, False)
        elif op is c.SUBPATTERN or op is c.ATOMIC_GROUP:
            state, inner = _analyse(list(av[-1] if op is c.SUBPATTERN else av), c, state)
            found.extend(inner)
        elif op is c.BRANCH:
            ends: list[_Walk] = []
            strongest: list[_Alternatives] = []
            for alternative in av[1]:
                end, inner = _analyse(list(alternative), c, state)
                ends.append(end)
                if end.run != _EMPTY_RUN:
                    inner.append(end.run)
                if inner:
                    strongest.append(max(inner, key=_strength))
            # Each path needs its own strongest set, so the branch needs their union.
            if len(strongest) == len(ends):
                found.append(frozenset().union(*strongest))
            boundary = all(end.boundary for end in ends)
            run = frozenset().union(*(end.run for end in ends))
            state = _Walk(run, boundary)
            if len(run) > _MAX_ALTERNATIVES:
                state = flushed(state, boundary)
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
            low, high, sub = av
            # How an iteration ends depends on where it starts only through the start
            # state, so walking it from "nothing known" gives a safe end state.
            last, _ = _analyse(list(sub), c, _Walk())
            if low == 0:
                state = flushed(state, state.boundary and last.boundary)
            else:
                first, inner = _analyse(list(sub), c, state)
                found.extend(inner)
                state = first if low == high == 1 else flushed(first, last.boundary)
        elif op is c.IN:
            state = flushed(state, _class_is_non_word(av))
        else:
            state = flushed(state, False)
    return state, found


def _class_is_non_word(members: list[Any]) -> bool:
    """True when every character of a class like [- ] or [\\s] is a non-word character."""
    for op, av in members:
        if str(op) == "LITERAL":
            if _WORD_CHAR.match(chr(av)):
                return False
        elif str(op) != "CATEGORY" or str(av) not in _NON_WORD_CATEGORIES:
            return False
    return bool(members)
