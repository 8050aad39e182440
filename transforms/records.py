r"""The records that flow between the steps, and nothing else.

    ReceivedMessage -> parse -> FeedbackEvent -> tag -> TaggedEvent -> sink
                          \________________________\__> DeadLetter -> sink
    sink (committed, new) -> StoredFact -> derived branches -> DerivedRow -> derived sink

Every step imports its input and output types from here rather than from the
step that makes them, so a new step (a join, a rollup, another sink) depends
on the records, not on the code of its neighbours. Plain frozen dataclasses:
they are pickled between bundles by the runner and compared in tests.
"""

from __future__ import annotations

import functools
import hashlib
import json
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from voc.transforms.experience_score import Experience

# Set by `voc dlq replay` on a re-published dead letter: the dead_letter_id it replays.
REPLAY_ATTRIBUTE = "voc_replay_of"
# Longest error text kept in a dead letter; the raw bytes are kept whole.
MAX_ERROR_CHARS = 2000


def payload_sha256(payload: Mapping[str, Any]) -> str:
    """The payload's content hash, independent of key order and whitespace."""
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


# -- as it arrived ------------------------------------------------------------


@dataclass(frozen=True)
class AckHandle:
    """What the sink needs to acknowledge one message after it committed."""

    session_id: str
    subscription: str
    ack_id: str


@dataclass(frozen=True)
class ReceivedMessage:
    """One Pub/Sub message as it arrived, before any parsing.

    ``ack`` is None where the runner acknowledges by itself (Dataflow's native
    source), so the sink has nothing to do for it.
    """

    data: bytes
    attributes: dict[str, str]
    message_id: str
    publish_time: datetime | None
    ack: AckHandle | None = None


# -- parsed -------------------------------------------------------------------


class InvalidMessage(ValueError):
    """A message that breaks the contract; ``reason`` is a stable code for grouping."""

    def __init__(self, reason: str, detail: str, kept_bytes: int | None = None) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        # How many leading bytes of the raw payload its dead letter keeps; None: all.
        # A message too large to process is not kept whole either (its hash is in
        # the detail), or one hostile publisher could fill the restricted table.
        self.kept_bytes = kept_bytes


@dataclass(frozen=True)
class FeedbackEvent:
    """A message that honours its contract."""

    event_type: str
    schema_version: int
    event_id: str
    interaction_id: str
    event_time: datetime
    payload: dict[str, Any]
    message: ReceivedMessage


# -- failed -------------------------------------------------------------------


@dataclass(frozen=True)
class DeadLetter:
    """A message no step could handle, kept whole so it can be replayed after a fix.

    Restricted: ``data`` is the raw payload and may hold PII; this is the only
    table where raw payloads are kept.
    """

    dead_letter_id: str
    stage: str
    reason: str
    error: str
    exception_type: str
    stack: str
    data: bytes
    attributes: dict[str, str]
    message_id: str
    publish_time: datetime | None
    received_at: datetime
    ack: AckHandle | None


def dead_letter_id(message: ReceivedMessage) -> str:
    """Stable across redeliveries of one published message, so they make one row.

    Pub/Sub's message id is stable under redelivery; without one (files, tests)
    the content hash is. A replayed dead letter is a new Pub/Sub message, so it
    names the row it came from (``voc_replay_of``) and fails into that row again.
    """
    replay_of = message.attributes.get(REPLAY_ATTRIBUTE)
    if replay_of:
        return replay_of
    if message.message_id:
        return f"msg:{message.message_id}"
    digest = hashlib.sha256(message.data)
    for key in sorted(message.attributes):
        # surrogatepass: a hash must not be the step that fails on odd attribute text.
        value = message.attributes[key]
        digest.update(
            b"\0"
            + key.encode("utf-8", "surrogatepass")
            + b"="
            + value.encode("utf-8", "surrogatepass")
        )
    return f"sha256:{digest.hexdigest()}"


def to_dead_letter(message: ReceivedMessage, stage: str, error: Exception) -> DeadLetter:
    reason = error.reason if isinstance(error, InvalidMessage) else type(error).__name__
    kept = error.kept_bytes if isinstance(error, InvalidMessage) else None
    return DeadLetter(
        dead_letter_id=dead_letter_id(message),
        stage=stage,
        reason=reason,
        error=str(error)[:MAX_ERROR_CHARS],
        exception_type=type(error).__name__,
        stack="" if isinstance(error, InvalidMessage) else _short_stack(error),
        data=message.data if kept is None else message.data[:kept],
        attributes=dict(message.attributes),
        message_id=message.message_id,
        publish_time=message.publish_time,
        received_at=datetime.now(UTC),
        ack=message.ack,
    )


def _short_stack(error: Exception) -> str:
    return "".join(traceback.format_exception(error, limit=-8))[-MAX_ERROR_CHARS:]


# -- tagged -------------------------------------------------------------------


# The three sentiment classes, in the order every probability list uses.
SENTIMENT_LABELS = ("negative", "neutral", "positive")
# The label of text in a language the sentiment lexicon does not read.
UNSCORED = "unscored"
# A learned model's cause tag has this rule_id prefix, then the model's version.
MODEL_RULE_PREFIX = "model:"


@dataclass(frozen=True)
class SentimentScore:
    """Sentiment of one text: a compound score in [-1, 1], its 3-class label and how
    sure the scorer is of that label.

    ``label`` is "unscored" (and ``compound`` 0) for text in a language the scorer
    does not read: a neutral score it did not earn would dilute every average.
    ``model_version`` names the learned model that contributed, if one did.
    """

    compound: float
    label: str  # "positive" | "neutral" | "negative" | "unscored"
    confidence: float = 1.0  # 0 .. 1, the probability of ``label``
    language: str = "en"  # detected language code, "und" when too short to tell
    model_version: str = ""


class Evidence(NamedTuple):
    """One rule that fired, and where: the stored (redacted) text's characters
    ``start:end`` (-1 for a note's numeric signal, which is not in the text).

    A named tuple, not a dataclass: several are made for every tagged text."""

    rule_id: str
    start: int
    end: int
    confidence: float
    text: str  # the matched words, or "hold_seconds=900" for a signal


@dataclass(frozen=True)
class CauseMatch:
    """A cause found in one text, with the evidence that justifies it.

    Evidence is kept so that a tag can always be explained (which rule, which words)
    and re-tagging after a taxonomy edit can be diffed; ``evidence`` is the short
    human-readable form, ``spans`` every rule that fired, strongest first.
    """

    cause_id: str
    department: str
    evidence: str
    sub_cause_id: str = ""
    confidence: float = 1.0
    spans: tuple[Evidence, ...] = ()
    # The sentiment compound of the sentence the evidence is in (None: not scored).
    sentiment: float | None = None

    @property
    def rule_id(self) -> str:
        return self.spans[0].rule_id if self.spans else ""


@dataclass(frozen=True)
class TaggedEvent:
    """An event ready for the fact tables: its text redacted and its tags attached."""

    event: FeedbackEvent
    text: str
    sentiment: SentimentScore
    causes: tuple[CauseMatch, ...]
    taxonomy_version: int
    redactions: int
    # The taxonomy's human release number and content hash (see Taxonomy).
    taxonomy_release: str = ""
    taxonomy_hash: str = ""
    # Identifier fields whose value looked personal, with the pseudonym stored instead.
    pseudonyms: Mapping[str, str] = field(default_factory=dict)
    # Surveys: scores and comment fused (voc.transforms.experience_score); else None.
    experience: Experience | None = None

    @functools.cached_property
    def payload_sha256(self) -> str:
        """The payload's content hash (see :mod:`voc.transforms.sinks.event_identity`);
        computed once, used by the fact row, every tag row and the conflict check."""
        return payload_sha256(self.event.payload)

    def identifier(self, name: str) -> Any:
        """An identifier field as the tables store it: its pseudonym, or its value."""
        return self.pseudonyms.get(name, self.event.payload.get(name))


# -- stored -------------------------------------------------------------------


class StoredCause(NamedTuple):
    """One cause of a stored fact, as feedback_tags holds it."""

    cause_id: str
    sub_cause_id: str  # "" when the cause has no sub-cause
    department: str
    evidence: str  # the matched words of the redacted text, or "hold_seconds=900"


@dataclass(frozen=True)
class StoredFact:
    """A fact as committed to its table: what every derived table is computed from.

    The sink emits one after its transaction stored the event for the first time
    (a redelivery stores nothing and emits nothing), and the reconciliation reads
    the same from the tables, so the stream and a recomputation see one input.
    It holds no ack handle: the derived branches may keep it in state for days.
    Identifiers are as stored (pseudonyms where the value looked personal) and the
    text is the redacted text.
    """

    event_id: str
    event_type: str  # survey | agent_note
    interaction_id: str
    channel: str
    event_time: datetime
    sentiment_score: float | None
    sentiment_label: str
    causes: tuple[StoredCause, ...] = ()
    text: str = ""
    customer_id: str | None = None  # surveys only
    csat: int | None = None
    nps: int | None = None
    ces: int | None = None
    resolved: bool | None = None
    handle_seconds: int | None = None  # agent notes only
    hold_seconds: int | None = None
    transfers: int | None = None
    # False: the join already refused this part (it arrived after its interaction's
    # state was collected); None: not decided yet. Read back from the fact tables.
    joined: bool | None = None


def stored_fact(tagged: TaggedEvent) -> StoredFact:
    """The fact a tagged event becomes once stored (the same values as its rows)."""
    event = tagged.event
    payload = event.payload
    is_survey = event.event_type == "survey"
    causes = tuple(
        StoredCause(cause.cause_id, cause.sub_cause_id, cause.department, cause.evidence)
        for cause in tagged.causes
    )
    sentiment = tagged.sentiment
    return StoredFact(
        event_id=event.event_id,
        event_type=event.event_type,
        interaction_id=tagged.identifier("interaction_id"),
        channel=payload["channel"],
        event_time=event.event_time,
        sentiment_score=None if sentiment.label == UNSCORED else sentiment.compound,
        sentiment_label=sentiment.label,
        causes=causes,
        text=tagged.text,
        customer_id=tagged.identifier("customer_id") if is_survey else None,
        csat=payload.get("csat") if is_survey else None,
        nps=payload.get("nps") if is_survey else None,
        ces=payload.get("ces") if is_survey else None,
        resolved=payload.get("resolved") if is_survey else None,
        handle_seconds=None if is_survey else payload.get("handle_seconds"),
        hold_seconds=None if is_survey else payload.get("hold_seconds"),
        transfers=None if is_survey else payload.get("transfers"),
    )


@dataclass(frozen=True)
class DerivedRow:
    """One row a derived branch writes: upserted into ``table`` on the table's key.

    Derived rows are recomputable from the facts, so their sink never acknowledges
    anything and a lost row is rebuilt by the next reconciliation.
    """

    table: str
    row: dict[str, Any]
