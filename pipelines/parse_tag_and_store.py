"""The processing graph every job shares: parse, tag, store; the sink is a parameter.

    messages -> ParseEvents -+-> TagFeedback -+-> CollectRecords -> sink
                             |                +-> (tag failures) -^
                             +-> (parse failures) ----------------^

Every failure path ends in the same sink as the facts, so a message is
acknowledged exactly when its outcome, a fact or a dead letter, is committed.
The sink is any PTransform over ``TaggedEvent | DeadLetter`` records: the
DuckDB file sink today; a DuckLake sink, a batch backfill's sink or a test's
sink plug in without touching the graph. Dedup by ``event_id`` happens in the
sink: at-least-once delivery means a duplicate can arrive after any restart,
and only the store knows what it has already committed.
"""

from __future__ import annotations

import apache_beam as beam
from apache_beam.pvalue import PCollection

from voc.transforms.parse_event import ParseEvents, ParseLimits
from voc.transforms.tag_feedback import TagFeedback

DEFAULT_LIMITS = ParseLimits()


class ParseTagAndStore(beam.PTransform):
    """PCollection[ReceivedMessage] -> parsed, tagged and written through ``sink``."""

    def __init__(
        self,
        sink: beam.PTransform,
        taxonomy_path: str | None = None,
        limits: ParseLimits = DEFAULT_LIMITS,
        pseudonym_key: bytes | None = None,
        model_path: str | None = None,
    ) -> None:
        super().__init__()
        self.sink = sink
        self.taxonomy_path = taxonomy_path
        self.limits = limits
        self.pseudonym_key = pseudonym_key
        self.model_path = model_path

    def expand(self, messages) -> dict[str, PCollection]:
        """Returns the named outputs (``stored``: what the sink committed first, as
        StoredFact; ``events``, ``tagged``, ``parse_failures``, ``tag_failures``) for
        tests and for the branches derived from the facts."""
        parsed = messages | "ParseEvents" >> ParseEvents(self.limits)
        tagged = parsed.events | "TagFeedback" >> TagFeedback(
            self.taxonomy_path, self.pseudonym_key, self.model_path
        )
        records = (
            tagged.tagged,
            parsed.dead_letters,
            tagged.dead_letters,
        ) | "CollectRecords" >> beam.Flatten()
        stored = records | "Store" >> self.sink
        return {
            "stored": stored,
            "events": parsed.events,
            "tagged": tagged.tagged,
            "parse_failures": parsed.dead_letters,
            "tag_failures": tagged.dead_letters,
        }
