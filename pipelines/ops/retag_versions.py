"""Tag versions: what names a re-tag, which texts it covers, and the rows it writes.

A version is named by everything that decides its tags and nothing else: the
taxonomy's release and content hash, the learned model's content version, and the
event-time range. Running the same re-tag twice therefore names the same version,
and the second run finds every text already tagged and adds nothing; a different
taxonomy (even one edited without bumping its release) is a different version.

The rows are feedback_tags rows, built the way the sink builds them
(:func:`voc.transforms.sinks.tables.tag_rows`), from the stored fact's columns
and the causes :func:`voc.transforms.tag_feedback.tag_text` finds in the stored
text. The stored text is already redacted, which is exactly what the streaming
tagger matched on: redaction is idempotent, so the offsets of the evidence point
into the same characters (the job counts any text whose redaction would change).
A tag's sentiment columns stay the event's stored sentiment (re-tagging versions
causes, not the fact tables); ``evidence_sentiment`` is of the new evidence's
sentence.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any

from voc.transforms.records import MODEL_RULE_PREFIX

if TYPE_CHECKING:
    from voc.transforms.learned_model import LearnedModel
    from voc.transforms.taxonomy import Taxonomy

__all__ = [
    "RETAG_FORMAT",
    "CauseTuple",
    "TagRange",
    "candidate_rows",
    "cause_tuples",
    "parse_when",
    "version_id",
]

# Bumped when the way a re-tag turns causes into rows changes: same inputs under
# another row format must not share a version id.
RETAG_FORMAT = 1

# What a worker sends back per cause: compact, picklable, in the tagger's order.
# (cause_id, department, evidence, sub_cause_id, rule_id, start, end, confidence,
#  evidence_spans json, evidence_sentiment, model_version)
CauseTuple = tuple[
    str, str, str, str | None, str | None, int | None, int | None, float | None, str,
    float | None, str | None,
]  # fmt: skip

_SAFE = re.compile(r"[^A-Za-z0-9.]+")


@dataclass(frozen=True)
class TagRange:
    """Event times [since, until); ``until`` None: everything from ``since`` on."""

    since: datetime
    until: datetime | None = None

    def __post_init__(self) -> None:
        if self.until is not None and self.until <= self.since:
            raise ValueError(
                f"--since {self.since:%Y-%m-%d %H:%M} is not before --until "
                f"{self.until:%Y-%m-%d %H:%M}"
            )

    def describe(self) -> str:
        end = f"{self.until:%Y-%m-%d %H:%M}" if self.until else "now"
        return f"{self.since:%Y-%m-%d %H:%M} .. {end} UTC"


def parse_when(text: str, flag: str) -> datetime:
    """A day (2026-11-01: its midnight, UTC) or an ISO date-time (UTC if no zone);
    ValueError naming the flag otherwise."""
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(), UTC)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{flag} {text!r}: not a date (YYYY-MM-DD or an ISO date-time)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def version_id(taxonomy: Taxonomy, model: LearnedModel | None, tag_range: TagRange) -> str:
    """``r<release>-<10 hex digits>``: the release a person reads, then a hash of
    everything that decides the tags (taxonomy content, model, range, row format)."""
    decided = {
        "format": RETAG_FORMAT,
        "taxonomy": taxonomy.content_hash,
        "taxonomy_format": taxonomy.version,
        "model": model.version if model is not None else None,
        "since": tag_range.since.astimezone(UTC).isoformat(),
        "until": tag_range.until.astimezone(UTC).isoformat() if tag_range.until else None,
    }
    digest = hashlib.sha256(json.dumps(decided, sort_keys=True).encode("utf-8")).hexdigest()
    release = _SAFE.sub("_", taxonomy.release).strip("_") or "0"
    return f"r{release}-{digest[:10]}"


def cause_tuples(causes) -> list[CauseTuple]:
    """The causes tag_text found, as the columns of their tag rows (sink's rules:
    the strongest rule's id and offsets, offsets only for evidence in the text)."""
    found = []
    for cause in causes:
        best = cause.spans[0] if cause.spans else None
        in_text = best is not None and best.start >= 0
        rule_id = best.rule_id if best else None
        found.append(
            (
                cause.cause_id,
                cause.department,
                cause.evidence,
                cause.sub_cause_id or None,
                rule_id,
                best.start if in_text else None,
                best.end if in_text else None,
                cause.confidence if best else None,
                json.dumps(
                    [
                        {
                            "rule": s.rule_id,
                            "start": s.start,
                            "end": s.end,
                            "confidence": s.confidence,
                        }
                        for s in cause.spans
                    ]
                ),
                cause.sentiment,
                rule_id.removeprefix(MODEL_RULE_PREFIX)
                if rule_id and rule_id.startswith(MODEL_RULE_PREFIX)
                else None,
            )
        )
    return found


def candidate_rows(
    fact: dict[str, Any],
    causes: list[CauseTuple],
    version: str,
    taxonomy: Taxonomy,
    now: datetime,
) -> list[dict[str, Any]]:
    """One event's rows for feedback_tag_candidates: the fact's identity, time,
    sentiment and CSAT on every row, ``first_for_department`` on the first row of
    each department, as the sink sets them."""
    seen: set[str] = set()
    rows = []
    for cause in causes:
        (cause_id, department, evidence, sub_cause, rule_id, start, end, confidence, spans,
         sentiment, model_version) = cause  # fmt: skip
        rows.append(
            {
                "tag_version": version,
                "event_id": fact["event_id"],
                "source": fact["source"],
                "interaction_id": fact["interaction_id"],
                "event_time": fact["event_time"],
                "cause_id": cause_id,
                "department": department,
                "evidence": evidence,
                "sentiment_score": fact["sentiment_score"],
                "sentiment_label": fact["sentiment_label"],
                "taxonomy_version": taxonomy.version,
                "tagged_at": now,
                "first_for_department": department not in seen,
                "csat": fact["csat"],
                "payload_sha256": fact["payload_sha256"],
                "sub_cause_id": sub_cause,
                "rule_id": rule_id,
                "evidence_start": start,
                "evidence_end": end,
                "confidence": confidence,
                "evidence_spans": spans,
                "taxonomy_release": taxonomy.release or None,
                "taxonomy_hash": taxonomy.content_hash or None,
                "evidence_sentiment": sentiment,
                "model_version": model_version,
            }
        )
        seen.add(department)
    return rows
