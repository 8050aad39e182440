"""Issue rollups: per event-time window x department x cause (both levels) x channel.

Pure: facts -> contributions -> an accumulator per window key -> the row. The
stream (:mod:`voc.transforms.derived.rollup_windows`) folds facts in as they come
and writes the accumulated row each time (so a late fact updates the same row,
never a second one), and the reconciliation folds all facts of a window at once;
addition is commutative, so both give the same row.

The accumulator keeps sums, not means: means of a window, a day or a week are
recomputed from the sums (the daily view adds hourly sums), never averaged.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from voc.transforms.derived.interactions import NO_CAUSE
from voc.transforms.records import StoredFact

# Phrases kept in a row's top_phrases; the daily view merges hourly lists.
TOP_PHRASES = 5
# Example verbatims an alert shows; the window keeps this many candidates per cause.
EXAMPLES = 3
EXAMPLE_CHARS = 280
# NPS 9-10 promote, 0-6 detract (the standard definition).
PROMOTER_MIN = 9
DETRACTOR_MAX = 6


class RollupKey(NamedTuple):
    window_start: float  # epoch seconds (UTC), a multiple of the window width
    department: str
    cause_id: str
    sub_cause_id: str  # "" for the cause level
    channel: str


class CauseWindow(NamedTuple):
    """A cause (both levels summed, all channels) in one window: what alerts watch."""

    window_start: float
    department: str
    cause_id: str


def window_start(event_time: datetime, width: timedelta) -> float:
    seconds = width.total_seconds()
    return (event_time.timestamp() // seconds) * seconds


def to_datetime(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


@dataclass
class Accumulator:
    volume: int = 0
    surveys: int = 0
    scored: int = 0
    negative: int = 0
    csat_sum: int = 0
    csat_count: int = 0
    promoters: int = 0
    detractors: int = 0
    nps_count: int = 0
    effort_sum: int = 0
    effort_count: int = 0
    phrases: Counter = field(default_factory=Counter)
    # The contacts behind the volume: a survey and its note name the same cause, so
    # events come in pairs and clusters; alerts count contacts (see cause_alerts).
    interaction_ids: set = field(default_factory=set)

    def add(self, fact: StoredFact, evidence: str) -> None:
        self.volume += 1
        self.interaction_ids.add(fact.interaction_id)
        if fact.sentiment_score is not None:
            self.scored += 1
            self.negative += fact.sentiment_label == "negative"
        if fact.event_type == "survey":
            self.surveys += 1
            if fact.csat is not None:
                self.csat_sum += fact.csat
                self.csat_count += 1
            if fact.nps is not None:
                self.nps_count += 1
                self.promoters += fact.nps >= PROMOTER_MIN
                self.detractors += fact.nps <= DETRACTOR_MAX
            if fact.ces is not None:
                self.effort_sum += fact.ces
                self.effort_count += 1
        phrase = phrase_of(evidence)
        if phrase:
            self.phrases[phrase] += 1


def phrase_of(evidence: str) -> str:
    """The evidence as a phrase owners read; a note's numeric signal
    ("hold_seconds=900") is not a phrase."""
    phrase = " ".join(evidence.lower().split())
    return "" if "=" in phrase else phrase[:120]


def contributions(fact: StoredFact, width: timedelta) -> list[tuple[RollupKey, str]]:
    """The window keys a fact counts in, each with the evidence it counts there.

    A cause with a sub-cause counts at both levels: once under (cause, "") and
    once under (cause, sub). A fact naming one cause twice counts once per key.
    """
    start = window_start(fact.event_time, width)
    keys: dict[RollupKey, str] = {}
    for cause in fact.causes:
        if cause.cause_id == NO_CAUSE:
            continue
        levels = ("", cause.sub_cause_id) if cause.sub_cause_id else ("",)
        for sub in levels:
            key = RollupKey(start, cause.department, cause.cause_id, sub, fact.channel)
            keys.setdefault(key, cause.evidence)
    return list(keys.items())


def contacts_per_cause(windows) -> dict[CauseWindow, int]:
    """Distinct interactions naming each cause in each window, over all channels: the
    volume alerts watch. (Events come in pairs and clusters, a survey and its notes
    naming one cause, which would make a few contacts look like a spike.)"""
    ids: dict[CauseWindow, set] = {}
    for key, acc in windows:
        if not key.sub_cause_id:
            cause = CauseWindow(key.window_start, key.department, key.cause_id)
            ids.setdefault(cause, set()).update(acc.interaction_ids)
    return {cause: len(found) for cause, found in ids.items()}


def fold_into(
    windows: dict[RollupKey, Accumulator],
    examples: dict[CauseWindow, list],
    fact: StoredFact,
    counted: list[tuple[RollupKey, str]],
) -> None:
    """Add a fact to the windows of its contributions (``contributions(fact, width)``, or
    the part of them one shard holds), and to its causes' alert example candidates.
    The stream's windows and the reconciliation's both fold facts in here."""
    for key, evidence in counted:
        windows.setdefault(key, Accumulator()).add(fact, evidence)
        if not key.sub_cause_id:
            cause = CauseWindow(key.window_start, key.department, key.cause_id)
            examples[cause] = keep_example(examples.get(cause, []), fact)


def _ratio(part: float, whole: int, scale: float = 1.0) -> float | None:
    return round(scale * part / whole, 6) if whole else None


def rollup_row(
    key: RollupKey, acc: Accumulator, width: timedelta, final: bool, updated_at: datetime
) -> dict[str, Any]:
    start = to_datetime(key.window_start)
    top = sorted(acc.phrases.items(), key=lambda item: (-item[1], item[0]))[:TOP_PHRASES]
    return {
        "window_start": start,
        "window_end": start + width,
        "department": key.department,
        "cause_id": key.cause_id,
        "sub_cause_id": key.sub_cause_id,
        "level": "sub_cause" if key.sub_cause_id else "cause",
        "channel": key.channel,
        "volume": acc.volume,
        "interactions": len(acc.interaction_ids),
        "surveys": acc.surveys,
        "scored": acc.scored,
        "negative": acc.negative,
        "csat_sum": acc.csat_sum,
        "csat_count": acc.csat_count,
        "promoters": acc.promoters,
        "detractors": acc.detractors,
        "nps_count": acc.nps_count,
        "effort_sum": acc.effort_sum,
        "effort_count": acc.effort_count,
        "share_negative": _ratio(acc.negative, acc.scored),
        "mean_csat": _ratio(acc.csat_sum, acc.csat_count),
        "nps": _ratio(acc.promoters - acc.detractors, acc.nps_count, 100.0),
        "mean_effort": _ratio(acc.effort_sum, acc.effort_count),
        "top_phrases": json.dumps(
            [{"phrase": phrase, "count": count} for phrase, count in top],
            separators=(",", ":"),
            ensure_ascii=False,
        ),
        "final": final,
        "updated_at": updated_at,
    }


def example_rank(fact: StoredFact) -> tuple[float, str]:
    """Order of preference for an alert's example verbatims: the most negative text
    first, then by event_id, so the examples do not depend on arrival order."""
    score = fact.sentiment_score if fact.sentiment_score is not None else 0.0
    return (score, fact.event_id)


def keep_example(
    examples: list[tuple[tuple[float, str], str]], fact: StoredFact
) -> list[tuple[tuple[float, str], str]]:
    """The best EXAMPLES candidates after considering ``fact`` (rank, redacted text)."""
    if not fact.text.strip():
        return examples
    candidate = (example_rank(fact), fact.text[:EXAMPLE_CHARS])
    if any(rank == candidate[0] for rank, _ in examples):
        return examples
    return sorted([*examples, candidate])[:EXAMPLES]


def examples_json(examples: list[tuple[tuple[float, str], str]]) -> str:
    return json.dumps(
        [{"event_id": rank[1], "text": text} for rank, text in examples],
        separators=(",", ":"),
        ensure_ascii=False,
    )
