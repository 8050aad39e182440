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
from typing import TYPE_CHECKING

import apache_beam as beam
from apache_beam.metrics import Metrics

from voc.transforms.experience_score import fuse_experience
from voc.transforms.feedback_tokens import tokenize
from voc.transforms.match_root_causes import match_root_causes
from voc.transforms.normalize_text import strip_invisible_controls
from voc.transforms.numeric_evidence import find_quantities, may_hold_quantities
from voc.transforms.pseudonymize_ids import pseudonymize_ids, shared_key
from voc.transforms.records import (
    MODEL_RULE_PREFIX,
    CauseMatch,
    Evidence,
    FeedbackEvent,
    SentimentScore,
    TaggedEvent,
    to_dead_letter,
)
from voc.transforms.redact_pii import redact_counts
from voc.transforms.score_sentiment import read_text_sentiment
from voc.transforms.support_sentiment import SentimentReading
from voc.transforms.taxonomy import PACK_PREFIX, UNCLASSIFIED, Taxonomy, load_taxonomy_reference
from voc.transforms.taxonomy import SIGNAL_FIELDS as CAUSE_SIGNAL_FIELDS
from voc.transforms.text_features import features_of

if TYPE_CHECKING:
    from voc.transforms.learned_model import LearnedModel

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
    raw_text: str,
    taxonomy: Taxonomy,
    signals: Mapping[str, object] | None = None,
    model: LearnedModel | None = None,
) -> TaggedText:
    """Redact first, then score and match on the redacted text only.

    The text is tokenized once, with the taxonomy's vocabulary, for sentiment,
    causes and the learned model alike. Each cause carries the sentiment of the
    sentence its evidence is in: "delivery was quick but the charger is broken" is
    positive about delivery and negative about the product.
    """
    text, counts = redact_counts(strip_invisible_controls(raw_text))
    tokens = tokenize(text, taxonomy.vocabulary) if text else []
    quantities = find_quantities(tokens) if may_hold_quantities(tokens) else []
    features = features_of(tokens) if model is not None else None
    sentiment, reading = read_text_sentiment(text, tokens, model, quantities, features)
    causes = match_root_causes(text, taxonomy, signals, tokens, quantities)
    if model is not None and causes[0].cause_id == UNCLASSIFIED:
        causes = model_causes(features or [], taxonomy, model) or causes
    if reading is not None:
        causes = [_with_sentiment(cause, reading) for cause in causes]
    return TaggedText(
        text=text,
        redactions=sum(counts.values()),
        sentiment=sentiment,
        causes=tuple(causes),
    )


def model_causes(features: list[str], taxonomy: Taxonomy, model: LearnedModel) -> list[CauseMatch]:
    """The learned model's causes for a text no rule matched: lower confidence than
    any rule, its strongest words as evidence, and its version as the rule id, so a
    reader can always tell a model's tag from a rule's."""
    found = []
    rule_id = f"{MODEL_RULE_PREFIX}{model.version}"
    for predicted in model.cause_predictions(features):
        if predicted.cause_id not in taxonomy.cause_ids:
            continue  # trained with another taxonomy; its causes cannot be routed
        words = ", ".join(predicted.words)
        found.append(
            CauseMatch(
                predicted.cause_id,
                taxonomy.department_for(predicted.cause_id),
                f"model: {words}",
                confidence=predicted.confidence,
                spans=(Evidence(rule_id, -1, -1, predicted.confidence, words),),
            )
        )
    return found


def _with_sentiment(cause: CauseMatch, reading: SentimentReading) -> CauseMatch:
    """The cause with the compound of the sentence its strongest text evidence is in;
    the whole text's for a cause with no place in the text (a signal, a model tag)."""
    compound = reading.compound
    for span in cause.spans:
        if span.start >= 0:
            compound = reading.sentence_compound(span.start)
            break
    return CauseMatch(
        cause.cause_id,
        cause.department,
        cause.evidence,
        cause.sub_cause_id,
        cause.confidence,
        cause.spans,
        None if compound is None else round(compound, 4),
    )


def tag_event(
    event: FeedbackEvent,
    taxonomy: Taxonomy,
    pseudonym_key: bytes | None = None,
    model: LearnedModel | None = None,
) -> TaggedEvent:
    """``pseudonym_key`` None: the process's key (environment or the default key file)."""
    raw_text = event.payload.get(TEXT_FIELD[event.event_type], "") or ""
    signals = {name: event.payload.get(name) for name in SIGNAL_FIELDS if name in event.payload}
    tagged = tag_text(raw_text, taxonomy, signals, model)
    experience = None
    if event.event_type == "survey":
        payload = event.payload
        experience = fuse_experience(
            payload.get("csat"),
            payload.get("nps"),
            payload.get("ces"),
            tagged.sentiment,
            bool(tagged.text.strip()),
        )
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
        experience=experience,
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


_MODELS: dict[str, LearnedModel] = {}


def shared_model(path: str | None) -> LearnedModel | None:
    """One loaded learned model per file per process (None: rules only)."""
    if not path:
        return None
    from voc.transforms.learned_model import load_model

    key = str(Path(path).resolve())
    with _TAXONOMIES_LOCK:
        model = _MODELS.get(key)
        if model is None:
            model = _MODELS[key] = load_model(path)
    return model


class TagFeedbackFn(beam.DoFn):
    """Main output: TaggedEvent; DEAD_LETTERS: events whose tagging raised (poison messages)."""

    DEAD_LETTERS = "dead_letters"

    def __init__(
        self,
        taxonomy_path: str | None = None,
        pseudonym_key: bytes | None = None,
        model_path: str | None = None,
    ) -> None:
        self.taxonomy_path = taxonomy_path
        self.model_path = model_path
        # Read once where the graph is built and carried to every worker, so all of
        # them pseudonymise alike; None: this process's key (environment or file).
        self.pseudonym_key = pseudonym_key
        self.tagged = Metrics.counter("voc.tag", "tagged")
        self.failed = Metrics.counter("voc.tag", "failed")
        self.redacted = Metrics.counter("voc.tag", "pii_redacted")

    def setup(self) -> None:
        self.taxonomy = shared_taxonomy(self.taxonomy_path)
        self.key = self.pseudonym_key or shared_key(None)
        self.model = shared_model(self.model_path)

    def process(self, event: FeedbackEvent):
        try:
            tagged = tag_event(event, self.taxonomy, self.key, self.model)
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
        self,
        taxonomy_path: str | None = None,
        pseudonym_key: bytes | None = None,
        model_path: str | None = None,
    ) -> None:
        super().__init__()
        self.taxonomy_path = taxonomy_path
        self.pseudonym_key = pseudonym_key
        self.model_path = model_path

    def expand(self, events):
        tag = TagFeedbackFn(self.taxonomy_path, self.pseudonym_key, self.model_path)
        return events | "Tag" >> beam.ParDo(tag).with_outputs(
            TagFeedbackFn.DEAD_LETTERS, main="tagged"
        )
