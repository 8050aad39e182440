"""What a re-tag would change, per cause: the texts that gain it and the texts that lose it.

    voc retag --since 2026-11-01 --taxonomy new.yaml --dry-run [--examples 3] [--format json]

A taxonomy edit is a routing change: a cause that gains texts lands more work on
its department, a cause that loses them may leave feedback with no owner. Before
anyone's numbers move, the analyst reads, for every cause, how many texts would
gain or lose it under the new rules and a few of those texts, so a phrase that
matches far too much (or a dropped cause whose texts fall to ``unclassified``)
is seen before it is promoted.

Pure functions over "event -> set of causes" before and after; the job
(:mod:`voc.pipelines.ops.retag`) reads the former from feedback_tags and makes
the latter by tagging the stored texts again. Texts shown are the stored ones,
already PII-redacted, shortened to one line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["CauseChange", "RetagDiff", "diff_causes", "format_diff", "short_text"]

EXAMPLE_WIDTH = 100


@dataclass
class CauseChange:
    """One cause's movement: how many texts gain it, how many lose it, and examples
    of each as (event_id, short text), in event-id order so a run is repeatable."""

    cause_id: str
    gained: int = 0
    lost: int = 0
    gained_examples: list[tuple[str, str]] = field(default_factory=list)
    lost_examples: list[tuple[str, str]] = field(default_factory=list)

    @property
    def net(self) -> int:
        return self.gained - self.lost

    def to_dict(self) -> dict:
        return {
            "cause_id": self.cause_id,
            "gained": self.gained,
            "lost": self.lost,
            "net": self.net,
            "gained_examples": [{"event_id": e, "text": t} for e, t in self.gained_examples],
            "lost_examples": [{"event_id": e, "text": t} for e, t in self.lost_examples],
        }


@dataclass
class RetagDiff:
    """Every cause that moved, most moved first, and the totals over the range."""

    texts: int  # texts re-tagged
    changed: int  # texts whose set of causes differs
    tags_before: int
    tags_after: int
    causes: list[CauseChange]
    untagged_before: int = 0  # texts that had no tag row at all (never tagged)

    def to_dict(self) -> dict:
        return {
            "texts": self.texts,
            "changed": self.changed,
            "unchanged": self.texts - self.changed,
            "tags_before": self.tags_before,
            "tags_after": self.tags_after,
            "untagged_before": self.untagged_before,
            "causes": [change.to_dict() for change in self.causes],
        }


def short_text(text: str, width: int = EXAMPLE_WIDTH) -> str:
    """The text on one line, at most ``width`` characters (an ellipsis when cut)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1].rstrip() + "…"


def diff_causes(
    before: Mapping[str, frozenset[str]],
    after: Mapping[str, frozenset[str]],
    texts: Mapping[str, str] | None = None,
    examples: int = 3,
) -> RetagDiff:
    """Compare each event's causes now (``before``) with the re-tag's (``after``).

    Only events in ``after`` count: those are the texts re-tagged. An event missing
    from ``before`` had no tags (it gains every cause it gets). ``texts`` gives the
    examples' text by event id; at most ``examples`` of each direction per cause.
    """
    changes: dict[str, CauseChange] = {}
    changed = tags_before = tags_after = untagged = 0
    for event_id in sorted(after):
        new = after[event_id]
        old = before.get(event_id)
        if old is None:
            untagged += 1
            old = frozenset()
        tags_before += len(old)
        tags_after += len(new)
        if old == new:
            continue
        changed += 1
        text = short_text((texts or {}).get(event_id, ""))
        for cause in new - old:
            change = changes.setdefault(cause, CauseChange(cause))
            change.gained += 1
            if len(change.gained_examples) < examples:
                change.gained_examples.append((event_id, text))
        for cause in old - new:
            change = changes.setdefault(cause, CauseChange(cause))
            change.lost += 1
            if len(change.lost_examples) < examples:
                change.lost_examples.append((event_id, text))
    ordered = sorted(changes.values(), key=lambda c: (-(c.gained + c.lost), c.cause_id))
    return RetagDiff(len(after), changed, tags_before, tags_after, ordered, untagged)


def format_diff(diff: RetagDiff, title: str = "") -> str:
    """The diff as a table per cause, then each cause's examples, then the totals."""
    lines = [title] if title else []
    if not diff.causes:
        lines.append(f"no cause moves: {diff.texts:,} texts keep their causes")
        return "\n".join(lines)
    width = max(len("cause"), *(len(c.cause_id) for c in diff.causes))
    lines.append(f"{'cause':<{width}}  {'gain':>7}  {'lose':>7}  {'net':>7}")
    for change in diff.causes:
        lines.append(
            f"{change.cause_id:<{width}}  {change.gained:>7,}  {change.lost:>7,}  {change.net:>+7,}"
        )
    for change in diff.causes:
        for label, shown in (("gains", change.gained_examples), ("loses", change.lost_examples)):
            if shown:
                lines.append("")
                lines.append(f"{change.cause_id} {label}:")
                lines.extend(f"  {event_id}: {text}" for event_id, text in shown)
    lines.append("")
    lines.append(
        f"total: {diff.texts:,} texts re-tagged, {diff.changed:,} change causes "
        f"({diff.texts - diff.changed:,} unchanged); tags {diff.tags_before:,} -> "
        f"{diff.tags_after:,}"
        + (f"; {diff.untagged_before:,} had no tags before" if diff.untagged_before else "")
    )
    return "\n".join(lines)
