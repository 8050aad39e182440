"""Tag each event: redact PII, score sentiment, find root causes, route to owners.

Redaction comes first on purpose: sentiment and cause matching only ever see
the redacted text, so the evidence stored next to a tag can never carry an
email, phone or card number into a department-facing table.

Before redaction, bidirectional controls and zero-width characters are removed
(normalize_text.strip_invisible_controls): they would reach department-facing text
able to change how it displays, and a zero-width space inside an address or number
would split it past the PII finders. Only the stored text is cleaned; the raw
payload that a dead letter keeps is the message as received.

The taxonomy and the VADER analyzer are loaded once per process: the legacy
DirectRunner deserialises DoFns for every bundle, and parsing either per bundle
would cost more than tagging the bundle.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import apache_beam as beam
from apache_beam.metrics import Metrics

from voc.transforms.match_root_causes import match_root_causes
from voc.transforms.normalize_text import strip_invisible_controls
from voc.transforms.pseudonymize_ids import pseudonymize_ids, shared_key
from voc.transforms.records import (
    CauseMatch,
    FeedbackEvent,
    SentimentScore,
    TaggedEvent,
    to_dead_letter,
)
from voc.transforms.redact_pii import redact_counts
from voc.transforms.score_sentiment import score_sentiment
from voc.transforms.taxonomy import PACK_PREFIX, Taxonomy, load_taxonomy_reference
from voc.transforms.taxonomy import SIGNAL_FIELDS as CAUSE_SIGNAL_FIELDS

# Which payload field holds each event type's free text.
TEXT_FIELD = {"survey": "comment", "agent_note": "note"}
# Agent-note fields the taxonomy's signals may test.
SIGNAL_FIELDS = tuple(CAUSE_SIGNAL_FIELDS.values())


@dataclass(frozen=True)
class TaggedText:
    """What tagging makes of one free text: the stored (redacted) text, its sentiment
    and causes. The pipeline and ``voc tag`` both tag through tag_text."""

    text: str
    redactions: int
    sentiment: SentimentScore
    causes: tuple[CauseMatch, ...]


def tag_text(
    raw_text: str, taxonomy: Taxonomy, signals: Mapping[str, object] | None = None
) -> TaggedText:
    """Redact first, then score and match on the redacted text only."""
    text, counts = redact_counts(strip_invisible_controls(raw_text))
    return TaggedText(
        text=text,
        redactions=sum(counts.values()),
        sentiment=score_sentiment(text),
        causes=tuple(match_root_causes(text, taxonomy, signals)),
    )


def tag_event(
    event: FeedbackEvent, taxonomy: Taxonomy, pseudonym_key: bytes | None = None
) -> TaggedEvent:
    """``pseudonym_key`` None: the process's key (environment or the default key file)."""
    raw_text = event.payload.get(TEXT_FIELD[event.event_type], "") or ""
    signals = {name: event.payload.get(name) for name in SIGNAL_FIELDS if name in event.payload}
    tagged = tag_text(raw_text, taxonomy, signals)
    return TaggedEvent(
        event=event,
        text=tagged.text,
        sentiment=tagged.sentiment,
        causes=tagged.causes,
        taxonomy_version=taxonomy.version,
        redactions=tagged.redactions,
        taxonomy_release=taxonomy.release,
        taxonomy_hash=taxonomy.content_hash,
        pseudonyms=pseudonymize_ids(event.payload, pseudonym_key or shared_key(None)),
    )


_TAXONOMIES: dict[str, Taxonomy] = {}
_TAXONOMIES_LOCK = threading.Lock()


def shared_taxonomy(reference: str | None) -> Taxonomy:
    """One compiled taxonomy per file (or ``pack:NAME``) per process."""
    if reference and not reference.startswith(PACK_PREFIX):
        key = str(Path(reference).resolve())
    else:
        key = reference or ""
    with _TAXONOMIES_LOCK:
        taxonomy = _TAXONOMIES.get(key)
        if taxonomy is None:
            taxonomy = _TAXONOMIES[key] = load_taxonomy_reference(reference)
    return taxonomy


class TagFeedbackFn(beam.DoFn):
    """Main output: TaggedEvent; DEAD_LETTERS: events whose tagging raised (poison messages)."""

    DEAD_LETTERS = "dead_letters"

    def __init__(
        self, taxonomy_path: str | None = None, pseudonym_key: bytes | None = None
    ) -> None:
        self.taxonomy_path = taxonomy_path
        # Read once where the graph is built and carried to every worker, so all of
        # them pseudonymise alike; None: this process's key (environment or file).
        self.pseudonym_key = pseudonym_key
        self.tagged = Metrics.counter("voc.tag", "tagged")
        self.failed = Metrics.counter("voc.tag", "failed")
        self.redacted = Metrics.counter("voc.tag", "pii_redacted")

    def setup(self) -> None:
        self.taxonomy = shared_taxonomy(self.taxonomy_path)
        self.key = self.pseudonym_key or shared_key(None)

    def process(self, event: FeedbackEvent):
        try:
            tagged = tag_event(event, self.taxonomy, self.key)
        except Exception as error:  # one poison message must not block the stream
            self.failed.inc()
            yield beam.pvalue.TaggedOutput(
                self.DEAD_LETTERS, to_dead_letter(event.message, "tag", error)
            )
            return
        self.tagged.inc()
        if tagged.redactions:
            self.redacted.inc(tagged.redactions)
        yield tagged


class TagFeedback(beam.PTransform):
    """Returns a DoOutputsTuple with ``tagged`` and ``dead_letters``."""

    def __init__(
        self, taxonomy_path: str | None = None, pseudonym_key: bytes | None = None
    ) -> None:
        super().__init__()
        self.taxonomy_path = taxonomy_path
        self.pseudonym_key = pseudonym_key

    def expand(self, events):
        tag = TagFeedbackFn(self.taxonomy_path, self.pseudonym_key)
        return events | "Tag" >> beam.ParDo(tag).with_outputs(
            TagFeedbackFn.DEAD_LETTERS, main="tagged"
        )
