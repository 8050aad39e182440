"""Tag feedback text with root causes from a YAML taxonomy, and route each to a department.

This runs on every survey comment and agent note in a streaming pipeline, so it is
written for speed without giving up exactness: a prefilter built when the taxonomy
is loaded (voc.transforms.pattern_prefilter) scans the lower-cased text once for the
literal strings the patterns need, and only the few patterns that can possibly
match run. The answers are identical to running every pattern; only the work differs.

The taxonomy itself, and reading and validating it from YAML, live in
voc.transforms.taxonomy.

The module has no Beam dependency: the pipeline wraps these pure functions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from voc.transforms.normalize_text import fold_apostrophes
from voc.transforms.pattern_prefilter import PatternIndex
from voc.transforms.records import CauseMatch
from voc.transforms.taxonomy import (
    TRIAGE_DEPARTMENT,
    UNCLASSIFIED,
    Taxonomy,
)

__all__ = ["EVIDENCE_SEPARATOR", "MAX_EVIDENCE", "match_root_causes"]

# More evidence than this makes a row hard to read in a dashboard without helping
# anyone decide whether the tag is right.
MAX_EVIDENCE = 3
EVIDENCE_SEPARATOR = " | "

# A few non-ASCII characters match ASCII letters under re.IGNORECASE although their
# str.lower() is not that letter (the long s U+017F matches "s", the dotless i
# U+0131 matches "i"). The literal prefilter compares lower-cased strings, so a text
# containing one of them skips the prefilter and runs every pattern instead.
_FOLDS_ONTO_ASCII = re.compile(r"(?=(?-i:[^\x00-\x7f]))[a-z]", re.IGNORECASE)


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


def _collect_text_evidence(text: str, index: PatternIndex, evidence: dict[int, list[str]]) -> None:
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
