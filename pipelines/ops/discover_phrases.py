"""``voc discover``: phrases rising in unclassified feedback, as a taxonomy snippet.

Feedback no rule matches is routed to triage as ``unclassified``. When a new problem
appears (a release breaks logins, a courier changes depots) it shows up there first,
as a phrase that suddenly recurs. This reads the unclassified texts of a recent
window and of a baseline before it, counts word-root n-grams (two and three words,
as NLTK's collocation tools count them) once per text, and keeps those whose share
of texts rose against their own baseline, with counts and example texts. The result
is printed as YAML a taxonomy owner can paste into a file after review: discovery
proposes, a person decides.

"Now" is the newest unclassified event in the file, so an old file can be analysed
as of its own last day. Texts in the tables are already redacted, so the examples
carry no PII.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from nltk.util import ngrams

from voc.transforms.feedback_tokens import FILLER_WORDS, tokenize
from voc.transforms.match_root_causes import NEGATION_ROOTS
from voc.transforms.taxonomy import TRIAGE_DEPARTMENT, UNCLASSIFIED, Taxonomy

__all__ = ["Candidate", "DiscoverError", "discover", "find_candidates", "parse_window"]

# The baseline is this many windows before the recent one.
BASELINE_WINDOWS = 4
EXAMPLES = 3
_WINDOW_RE = re.compile(r"^\s*(\d+)\s*([hdw])\s*$")
_UNIT = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}
# Words that make an n-gram about nothing: "i was", "of the", "the the".
_GLUE = (
    "to of in on at for and or but with from by as if then than there here what when "
    "which who how please thanks thank hi hello"
)
_EMPTY_WORDS = FILLER_WORDS | frozenset(_GLUE.split())

_UNCLASSIFIED_TEXTS = """
    select t.event_time, coalesce(s.comment, n.note) as text
    from feedback_tags as t
    left join surveys as s on s.event_id = t.event_id
    left join agent_notes as n on n.event_id = t.event_id
    where t.cause_id = ? and t.event_time >= ? and t.event_time < ?
"""


class DiscoverError(RuntimeError):
    """The file cannot be analysed (no voc tables, nothing unclassified)."""


@dataclass
class Candidate:
    phrase: str  # the words most often written for this root n-gram
    recent: int  # texts in the recent window that contain it
    baseline: int
    rise: float  # recent share / baseline share, smoothed
    examples: list[str] = field(default_factory=list)


def parse_window(text: str) -> timedelta:
    found = _WINDOW_RE.match(text)
    if found is None:
        raise ValueError("give a number and a unit: 48h, 7d, 2w")
    amount = int(found.group(1))
    if amount < 1:
        raise ValueError("the window must be at least 1 hour")
    return amount * _UNIT[found.group(2)]


def find_candidates(
    recent: list[str], baseline: list[str], taxonomy: Taxonomy, top: int, min_count: int
) -> list[Candidate]:
    """N-grams whose share of texts rose most from ``baseline`` to ``recent``."""
    recent_counts, surfaces, examples = _document_frequencies(recent, taxonomy, keep=True)
    baseline_counts, _, _ = _document_frequencies(baseline, taxonomy, keep=False)
    scored: list[tuple[float, tuple[str, ...], float]] = []
    for gram, count in recent_counts.items():
        if count < min_count:
            continue
        recent_share = (count + 0.5) / (len(recent) + 1)
        baseline_share = (baseline_counts[gram] + 0.5) / (len(baseline) + 1)
        rise = recent_share / baseline_share
        if rise <= 1.5:
            continue
        scored.append((rise * math.log1p(count), gram, rise))
    scored.sort(key=lambda item: (-item[0], item[1]))
    chosen: list[Candidate] = []
    covered: list[set[int]] = []
    for _, gram, rise in scored:
        texts = set(examples[gram])
        # a trigram and the bigrams inside it usually come from the same texts
        if any(len(texts & seen) >= 0.8 * len(texts) for seen in covered):
            continue
        covered.append(texts)
        chosen.append(
            Candidate(
                phrase=surfaces[gram].most_common(1)[0][0],
                recent=recent_counts[gram],
                baseline=baseline_counts[gram],
                rise=round(rise, 1),
                examples=[recent[i] for i in sorted(texts)[:EXAMPLES]],
            )
        )
        if len(chosen) == top:
            break
    return chosen


def _document_frequencies(
    texts: list[str], taxonomy: Taxonomy, keep: bool
) -> tuple[Counter, dict[tuple[str, ...], Counter], dict[tuple[str, ...], list[int]]]:
    counts: Counter = Counter()
    surfaces: dict[tuple[str, ...], Counter] = {}
    examples: dict[tuple[str, ...], list[int]] = {}
    for number, text in enumerate(texts):
        tokens = tokenize(text, taxonomy.vocabulary)
        seen: set[tuple[str, ...]] = set()
        for size in (2, 3):
            for window in ngrams(tokens, size):
                if len({token.sentence for token in window}) > 1:
                    continue
                words = [token.word for token in window]
                if words[0] in _EMPTY_WORDS or words[-1] in _EMPTY_WORDS:
                    continue
                if all(
                    w in _EMPTY_WORDS or t.root in NEGATION_ROOTS
                    for w, t in zip(words, window, strict=True)
                ):
                    continue
                gram = tuple(token.root for token in window)
                if gram in seen:
                    continue
                seen.add(gram)
                counts[gram] += 1
                if keep:
                    surface = text[window[0].start : window[-1].end].lower()
                    surfaces.setdefault(gram, Counter())[" ".join(surface.split())] += 1
                    examples.setdefault(gram, []).append(number)
    return counts, surfaces, examples


def discover(path: str, window: timedelta, taxonomy: Taxonomy, top: int, min_count: int) -> str:
    import duckdb

    try:
        con = duckdb.connect(path, read_only=True)
    except duckdb.Error as error:
        raise DiscoverError(f"{path}: {str(error).splitlines()[0]}") from None
    with con:
        try:
            newest = con.execute(
                "select max(event_time) from feedback_tags where cause_id = ?", [UNCLASSIFIED]
            ).fetchone()[0]
        except duckdb.CatalogException:
            raise DiscoverError(f"{path} has no voc tables") from None
        if newest is None:
            raise DiscoverError(f"{path} has no unclassified feedback to look at")
        end = newest + timedelta(microseconds=1)
        start = end - window
        baseline_start = start - BASELINE_WINDOWS * window
        recent = _texts(con, start, end)
        baseline = _texts(con, baseline_start, start)
    candidates = find_candidates(recent, baseline, taxonomy, top, min_count)
    return format_snippet(candidates, start, end, len(recent), len(baseline), window)


def _texts(con, start: datetime, end: datetime) -> list[str]:
    rows = con.execute(_UNCLASSIFIED_TEXTS, [UNCLASSIFIED, start, end]).fetchall()
    return [text for _, text in rows if text]


def format_snippet(
    candidates: list[Candidate],
    start: datetime,
    end: datetime,
    recent: int,
    baseline: int,
    window: timedelta,
) -> str:
    days = window / timedelta(days=1)
    lines = [
        f"# voc discover: phrases rising in unclassified feedback, {start:%Y-%m-%d %H:%M} .. "
        f"{end:%Y-%m-%d %H:%M}",
        f"# recent window: {recent:,} unclassified texts; baseline ({BASELINE_WINDOWS} windows "
        f"of {days:g} days before): {baseline:,}",
        "# Review each: rename it, choose its department, keep the phrases that mean one "
        "cause, then paste under causes: and run voc taxonomy check.",
    ]
    if not candidates:
        lines.append("# nothing rose against its baseline")
        return "\n".join(lines)
    lines.append("causes:")
    for number, candidate in enumerate(candidates, start=1):
        lines += [
            f"  - id: discovered_{number}",
            f'    description: "Rising in unclassified feedback: {_quoted(candidate.phrase)}"',
            f"    department: {TRIAGE_DEPARTMENT}",
            f'    phrases: ["{_quoted(candidate.phrase)}"]',
            f"    # {candidate.recent} texts in the window, {candidate.baseline} in the baseline "
            f"(x{candidate.rise:g} their share)",
        ]
        for example in candidate.examples:
            lines.append(f"    #   e.g. {_one_line(example)}")
    return "\n".join(lines)


def _quoted(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _one_line(text: str, limit: int = 120) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."
