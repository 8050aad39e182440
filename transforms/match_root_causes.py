"""Tag feedback text with root causes from a YAML taxonomy, and route each to a department.

This runs on every survey comment and agent note in a streaming pipeline, so it is
written for speed without giving up exactness. Running every pattern of every cause
over every text is far too slow in Python's regex engine (hundreds of microseconds a
text), while a single combined regex silently loses causes whose matches overlap. So
each pattern is analysed once, when the taxonomy is loaded, for the literal strings
any of its matches must contain; a single scan of the lower-cased text for all of
those strings then tells which few patterns can possibly match, and only those run.
The answers are identical to running every pattern; only the work differs.

The module has no Beam dependency: the pipeline wraps these pure functions.
"""

from __future__ import annotations

import importlib.resources
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from voc.transforms.normalize_text import fold_apostrophes
from voc.transforms.records import CauseMatch

__all__ = [
    "MAX_EVIDENCE",
    "SIGNAL_FIELDS",
    "TAXONOMY_VERSION",
    "TRIAGE_DEPARTMENT",
    "UNCLASSIFIED",
    "Cause",
    "CauseMatch",
    "Taxonomy",
    "TaxonomyError",
    "load_taxonomy",
    "match_root_causes",
    "parse_taxonomy",
]

# Feedback that matches no cause is still a customer telling us something went wrong
# (or right); dropping it would hide exactly the problems the taxonomy does not know
# yet. It is therefore tagged with this pseudo-cause and routed to the team that
# triages support feedback, whose review is also how new causes get discovered.
UNCLASSIFIED = "unclassified"
TRIAGE_DEPARTMENT = "support_ops"

TAXONOMY_VERSION = 1

# Signal names in the taxonomy -> the agent-note field each one compares against.
# Only ">=" thresholds exist because every operational signal we route on is "too
# much of something" (waiting, transfers, handling time).
SIGNAL_FIELDS: Mapping[str, str] = {
    "hold_seconds_gte": "hold_seconds",
    "transfers_gte": "transfers",
    "handle_seconds_gte": "handle_seconds",
}

# More evidence than this makes a row hard to read in a dashboard without helping
# anyone decide whether the tag is right.
MAX_EVIDENCE = 3
EVIDENCE_SEPARATOR = " | "

_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_TOP_KEYS = frozenset({"version", "departments", "causes"})
_CAUSE_KEYS = frozenset({"id", "description", "department", "patterns", "signals"})
_REQUIRED_CAUSE_KEYS = ("id", "description", "department")

# A few non-ASCII characters match ASCII letters under re.IGNORECASE although their
# str.lower() is not that letter (the long s U+017F matches "s", the dotless i
# U+0131 matches "i"). The literal prefilter compares lower-cased strings, so a text
# containing one of them skips the prefilter and runs every pattern instead.
_FOLDS_ONTO_ASCII = re.compile(r"(?=(?-i:[^\x00-\x7f]))[a-z]", re.IGNORECASE)


class TaxonomyError(ValueError):
    """A taxonomy file that cannot be used, described in one line naming file and problem.

    One line, because the message ends up in CLI output and worker logs where the
    person fixing the YAML needs to see the file and the fault at a glance.
    """


@dataclass(frozen=True)
class Cause:
    """One root cause: who owns it, and what in the text or the note's numbers reveals it."""

    id: str
    description: str
    department: str
    patterns: tuple[re.Pattern[str], ...] = ()
    # Signal name (a key of SIGNAL_FIELDS) -> threshold; any one reaching it is enough.
    signals: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class _Scanner:
    """One pass over the lower-cased text reporting which required literals occur."""

    regex: re.Pattern[str]
    # literal -> (pattern id, bit of the required set it satisfies, is that set
    # leading) for the literal and all its prefixes
    entries: Mapping[str, tuple[tuple[int, int, bool], ...]]


@dataclass(frozen=True)
class _Index:
    """Precomputed lookup that lets match_root_causes run only patterns that can match.

    Pattern i needs one literal from each of its required sets, set k setting bit k;
    a pattern whose mask is complete after scanning is worth running, the others
    cannot match. When a pattern's set 0 is "leading" (every match starts with one
    of its strings) the pattern is tried with re.match only where those were seen.
    """

    scanners: tuple[_Scanner, ...]
    full_masks: tuple[int, ...]  # pattern id -> mask with every required set satisfied
    always: tuple[int, ...]  # patterns without usable literals: always run
    patterns: tuple[re.Pattern[str], ...]  # pattern id -> compiled pattern
    owners: tuple[int, ...]  # pattern id -> index of its cause


@dataclass(frozen=True)
class Taxonomy:
    """A validated set of causes and the departments that own them.

    Build it with load_taxonomy or parse_taxonomy, which validate; constructing it
    directly is possible (tests do) but skips validation.
    """

    version: int
    departments: dict[str, str]
    causes: tuple[Cause, ...]
    _index: _Index = field(init=False, repr=False, compare=False)
    _departments_by_cause: dict[str, str] = field(init=False, repr=False, compare=False)
    # (cause index, note field, threshold) for every signal, in cause order: most
    # causes have none, so an event with signals checks only these.
    _signal_rules: tuple[tuple[int, str, float], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", _build_index(self.causes))
        rules = tuple(
            (cause_index, SIGNAL_FIELDS[name], threshold)
            for cause_index, cause in enumerate(self.causes)
            for name, threshold in cause.signals.items()
        )
        object.__setattr__(self, "_signal_rules", rules)
        routes = {cause.id: cause.department for cause in self.causes}
        routes[UNCLASSIFIED] = TRIAGE_DEPARTMENT
        object.__setattr__(self, "_departments_by_cause", routes)

    def department_for(self, cause_id: str) -> str:
        """Return the department owning cause_id (UNCLASSIFIED goes to triage).

        Raises KeyError for an unknown cause, because silently routing a typo
        somewhere would lose the feedback.
        """
        return self._departments_by_cause[cause_id]

    @property
    def cause_ids(self) -> tuple[str, ...]:
        """Cause ids in taxonomy order, which is also the order matches are reported in."""
        return tuple(cause.id for cause in self.causes)


# --------------------------------------------------------------------------- matching


def match_root_causes(
    text: str,
    taxonomy: Taxonomy,
    signals: Mapping[str, int | float | None] | None = None,
) -> list[CauseMatch]:
    """Return every cause found in text or signals, in taxonomy order, never an empty list.

    Multi-label because one complaint often has several causes (a billing error that
    also meant a long hold), and each should reach its owner. Each cause appears at
    most once, with up to MAX_EVIDENCE distinct pieces of evidence: matched text in
    reading order first, then triggered signals such as "hold_seconds=900". Signals
    are agent-note fields (hold_seconds, transfers, handle_seconds); missing or None
    values never trigger. When nothing matches the single result is UNCLASSIFIED,
    routed to TRIAGE_DEPARTMENT.
    """
    causes = taxonomy.causes
    evidence: dict[int, list[str]] = {}
    if text:
        _collect_text_evidence(text, taxonomy._index, evidence)
    if signals:
        for cause_index, note_field, threshold in taxonomy._signal_rules:
            value = signals.get(note_field)
            if _reaches(value, threshold):
                found = evidence.setdefault(cause_index, [])
                if len(found) < MAX_EVIDENCE:
                    found.append(f"{note_field}={_format_number(value)}")
    if not evidence:
        return [CauseMatch(UNCLASSIFIED, TRIAGE_DEPARTMENT, "")]
    return [
        CauseMatch(causes[i].id, causes[i].department, EVIDENCE_SEPARATOR.join(evidence[i]))
        for i in sorted(evidence)
    ]


def _collect_text_evidence(text: str, index: _Index, evidence: dict[int, list[str]]) -> None:
    """Run the patterns the prefilter allows and record distinct evidence per cause.

    Written as flat loops on purpose: this is the hot path of the pipeline.
    """
    if text.isascii():
        folded = text
        use_prefilter = True
    else:
        folded = fold_apostrophes(text)
        use_prefilter = _FOLDS_ONTO_ASCII.search(text) is None
    lowered = folded.lower() if use_prefilter else ""
    spans: dict[int, list[tuple[int, int]]] = {}
    patterns = index.patterns
    owners = index.owners
    limit = 2 * MAX_EVIDENCE
    if not use_prefilter or len(lowered) != len(folded):
        candidates: Iterable[int] = range(len(patterns))
        starts: dict[int, list[int]] = {}
    else:
        satisfied: dict[int, int] = {}
        starts = {}
        for scanner in index.scanners:
            entries = scanner.entries
            for found in scanner.regex.finditer(lowered):
                position = found.start()
                for pattern_id, bit, leading in entries[found.group(1)]:
                    satisfied[pattern_id] = satisfied.get(pattern_id, 0) | bit
                    if leading:
                        if pattern_id in starts:
                            starts[pattern_id].append(position)
                        else:
                            starts[pattern_id] = [position]
        full = index.full_masks
        candidates = [pid for pid, mask in satisfied.items() if mask == full[pid]]
        candidates.extend(index.always)
    for pattern_id in candidates:
        owner = owners[pattern_id]
        found_spans = spans.get(owner)
        if found_spans is None:
            found_spans = spans[owner] = []
        elif len(found_spans) >= limit:
            continue
        pattern = patterns[pattern_id]
        positions = starts.get(pattern_id)
        if positions is not None:
            for position in positions:
                match = pattern.match(folded, position)
                if match is not None and match.end() > position:
                    found_spans.append(match.span())
        else:
            for match in pattern.finditer(folded):
                if match.end() > match.start():
                    found_spans.append(match.span())
                    if len(found_spans) >= limit:
                        break
    for cause_index, found_spans in spans.items():
        if found_spans:
            evidence[cause_index] = _pick_evidence(text, found_spans)


def _pick_evidence(text: str, spans: list[tuple[int, int]]) -> list[str]:
    """Choose up to MAX_EVIDENCE non-overlapping, distinct snippets in reading order.

    Several patterns of one cause often match the same words ("waited on hold",
    "on hold for 45 minutes"); overlapping snippets would only repeat them, so the
    earliest and, at equal starts, longest one is kept.
    """
    spans.sort(key=lambda span: (span[0], -span[1]))
    chosen: list[str] = []
    seen: set[str] = set()
    taken_until = -1
    for start, end in spans:
        if start < taken_until:
            continue
        words = text[start:end].strip()
        key = words.lower()
        if not words or key in seen:
            continue
        seen.add(key)
        chosen.append(words)
        taken_until = end
        if len(chosen) == MAX_EVIDENCE:
            break
    return chosen


def _reaches(value: object, threshold: float) -> bool:
    """True when a numeric signal value meets its threshold; bools are not numbers here."""
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return value >= threshold


def _format_number(value: object) -> str:
    """Print 900 and 900.0 alike so evidence strings do not depend on JSON number types."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# --------------------------------------------------------------------------- prefilter


def _build_index(causes: Sequence[Cause]) -> _Index:
    """Analyse every pattern for required literals and build the scanners."""
    patterns: list[re.Pattern[str]] = []
    owners: list[int] = []
    full_masks: list[int] = []
    always: list[int] = []
    at_word_start: dict[str, list[tuple[int, int, bool]]] = {}
    anywhere: dict[str, list[tuple[int, int, bool]]] = {}
    for cause_index, cause in enumerate(causes):
        for pattern in cause.patterns:
            pattern_id = len(patterns)
            patterns.append(pattern)
            owners.append(cause_index)
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
    return _Index(
        scanners=scanners,
        full_masks=tuple(full_masks),
        always=tuple(always),
        patterns=tuple(patterns),
        owners=tuple(owners),
    )


def _make_scanner(direct: Mapping[str, list[tuple[int, int, bool]]], prefix: str) -> _Scanner:
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
    return _Scanner(regex, entries)


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


# --------------------------------------------------------------------------- loading


def load_taxonomy(path: str | Path | None = None) -> Taxonomy:
    """Read and validate a taxonomy file; None means the default packaged with voc.

    The default is found through importlib.resources so it works from an installed
    wheel or a Dataflow worker, not only from a source checkout.
    """
    if path is None:
        resource = importlib.resources.files("voc.schemas") / "tagging" / "taxonomy.yaml"
        source = "schemas/tagging/taxonomy.yaml"
        try:
            text = resource.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise TaxonomyError(f"{source}: cannot read packaged taxonomy: {error}") from error
        return parse_taxonomy(text, source)
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise TaxonomyError(f"{source}: not valid UTF-8: {error.reason}") from error
    except OSError as error:
        reason = error.strerror or str(error)
        raise TaxonomyError(f"{source}: cannot read taxonomy: {reason}") from error
    return parse_taxonomy(text, source)


def parse_taxonomy(text: str, source: str) -> Taxonomy:
    """Validate taxonomy YAML given as text; source names it in error messages.

    Validation is complete and strict (unknown keys are errors) because a typo in a
    routing file otherwise fails silently: feedback goes to the wrong team or to
    nobody, and nobody notices for weeks.
    """
    try:
        document = yaml.load(text, Loader=_StrictLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = error.problem or error.context or "syntax error"
        raise _error(source, f"invalid YAML{where}: {problem}") from error
    except yaml.YAMLError as error:
        raise _error(source, f"invalid YAML: {error}") from error

    if not isinstance(document, dict):
        raise _error(source, "top level must be a mapping with version, departments and causes")
    unknown = sorted(str(key) for key in document if key not in _TOP_KEYS)
    if unknown:
        raise _error(source, f"unknown top-level key(s): {', '.join(unknown)}")
    for key in ("version", "departments", "causes"):
        if key not in document:
            raise _error(source, f"missing required key '{key}'")

    version = document["version"]
    if isinstance(version, bool) or not isinstance(version, int):
        raise _error(source, f"version must be the integer {TAXONOMY_VERSION}, got {version!r}")
    if version != TAXONOMY_VERSION:
        raise _error(
            source, f"unsupported version {version} (this voc reads version {TAXONOMY_VERSION})"
        )

    departments = _parse_departments(document["departments"], source)

    raw_causes = document["causes"]
    if not isinstance(raw_causes, list) or not raw_causes:
        raise _error(source, "'causes' must be a non-empty list")
    causes: list[Cause] = []
    seen: set[str] = set()
    for position, raw in enumerate(raw_causes, start=1):
        cause = _parse_cause(raw, position, departments, source)
        if cause.id in seen:
            raise _error(source, f"duplicate cause id '{cause.id}'")
        seen.add(cause.id)
        causes.append(cause)
    return Taxonomy(version=version, departments=departments, causes=tuple(causes))


def _parse_departments(raw: object, source: str) -> dict[str, str]:
    if not isinstance(raw, dict) or not raw:
        raise _error(source, "'departments' must be a non-empty mapping of id to description")
    departments: dict[str, str] = {}
    for key, description in raw.items():
        if not isinstance(key, str) or not _ID_RE.match(key):
            raise _error(source, f"department id {key!r} must be snake_case")
        if not isinstance(description, str) or not description.strip():
            raise _error(source, f"department '{key}' needs a non-empty description string")
        departments[key] = description.strip()
    if TRIAGE_DEPARTMENT not in departments:
        raise _error(
            source,
            f"departments must include '{TRIAGE_DEPARTMENT}', which receives unclassified feedback",
        )
    return departments


def _parse_cause(raw: object, position: int, departments: Mapping[str, str], source: str) -> Cause:
    if not isinstance(raw, dict):
        raise _error(source, f"cause #{position} must be a mapping")
    cause_id = raw.get("id")
    label = f"cause '{cause_id}'" if isinstance(cause_id, str) else f"cause #{position}"
    for key in _REQUIRED_CAUSE_KEYS:
        if key not in raw:
            raise _error(source, f"{label} is missing required key '{key}'")
    unknown = sorted(str(key) for key in raw if key not in _CAUSE_KEYS)
    if unknown:
        raise _error(source, f"{label} has unknown key(s): {', '.join(unknown)}")
    if not isinstance(cause_id, str) or not _ID_RE.match(cause_id):
        raise _error(source, f"{label}: id must be a snake_case string")
    if cause_id == UNCLASSIFIED:
        raise _error(source, f"cause id '{UNCLASSIFIED}' is reserved for unmatched feedback")
    description = raw["description"]
    if not isinstance(description, str) or not description.strip():
        raise _error(source, f"{label}: description must be a non-empty string")
    department = raw["department"]
    if not isinstance(department, str) or department not in departments:
        raise _error(source, f"{label} names unknown department {department!r}")

    raw_patterns = raw.get("patterns") or []
    if not isinstance(raw_patterns, list):
        raise _error(source, f"{label}: patterns must be a list of regex strings")
    patterns: list[re.Pattern[str]] = []
    for raw_pattern in raw_patterns:
        if not isinstance(raw_pattern, str) or not raw_pattern.strip():
            raise _error(source, f"{label}: pattern {raw_pattern!r} must be a non-empty string")
        try:
            compiled = re.compile(raw_pattern, re.IGNORECASE)
        except re.error as error:
            raise _error(
                source, f"{label}: pattern {raw_pattern!r} is not a valid regex: {error}"
            ) from error
        if compiled.fullmatch("") is not None:
            raise _error(
                source, f"{label}: pattern {raw_pattern!r} matches empty text, so it matches always"
            )
        patterns.append(compiled)

    raw_signals = raw.get("signals") or {}
    if not isinstance(raw_signals, dict):
        raise _error(source, f"{label}: signals must be a mapping of signal name to threshold")
    signals: dict[str, float] = {}
    for name, threshold in raw_signals.items():
        if name not in SIGNAL_FIELDS:
            allowed = ", ".join(SIGNAL_FIELDS)
            raise _error(source, f"{label}: unknown signal {name!r} (allowed: {allowed})")
        if isinstance(threshold, bool) or not isinstance(threshold, int | float) or threshold < 0:
            raise _error(
                source, f"{label}: signal '{name}' needs a non-negative number, got {threshold!r}"
            )
        signals[name] = threshold
    if not patterns and not signals:
        raise _error(source, f"{label} has neither patterns nor signals, so it can never match")
    return Cause(
        id=cause_id,
        description=description.strip(),
        department=department,
        patterns=tuple(patterns),
        signals=signals,
    )


def _error(source: str, problem: str) -> TaxonomyError:
    """Build the one-line message every taxonomy problem is reported with."""
    return TaxonomyError(f"{source}: {problem}".replace("\r", " ").replace("\n", " "))


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate mapping keys.

    PyYAML keeps the last of two equal keys without a word, which would let a
    copy-pasted department or cause field silently replace another.
    """


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        mapping[key] = loader.construct_object(value_node, deep=True)
    return mapping


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,  # type: ignore[arg-type]
)
