"""Read survey and agent-note messages from Pub/Sub, per runner.

Locally (the legacy DirectRunner) the read is a :class:`PullSession`: large
bundles and acknowledgement after the sink commits. On Dataflow the native
``ReadFromPubSub`` is the right source: the service checkpoints and
acknowledges after durable commit, and ``id_label`` lets it drop redeliveries
of one published message. Both produce :class:`ReceivedMessage`, so nothing
downstream knows which one ran.

Both follow event time. Elements are timestamped with the message's
``event_time`` attribute, so the windows downstream group by when feedback was
given, not when it was published or read. Locally the session keeps the watermark
(see :mod:`voc.transforms.sources.source_watermark`). On Dataflow the native read
is given ``timestamp_attribute="event_time"``, and the service estimates the
watermark from the event times in the subscription's backlog; without it, its
watermark follows publish time and a backlog of old surveys would be late.

The difference on an invalid message: locally a missing or unparseable
``event_time`` falls back to the publish time (the parse step dead-letters the
message). The native read handles the attribute itself: Beam's own DirectRunner
read (``--source native`` locally) falls back to publish time only when the
attribute is absent and fails the bundle on one it cannot parse; pass
``timestamp_attribute=None`` there if untrusted publishers can reach the topic.
"""

from __future__ import annotations

from collections.abc import Sequence

import apache_beam as beam

from voc.transforms.records import ReceivedMessage
from voc.transforms.sources.source_watermark import EVENT_TIME_ATTRIBUTE


def from_pubsub_message(message) -> ReceivedMessage:
    """Adapt Beam's PubsubMessage; the runner owns acknowledgement there."""
    return ReceivedMessage(
        data=message.data or b"",
        attributes=dict(message.attributes or {}),
        message_id=message.message_id or "",
        publish_time=message.publish_time,
        ack=None,
    )


class ReadFeedback(beam.PTransform):
    """Messages of all feedback subscriptions as one PCollection[ReceivedMessage],
    each timestamped with its event time.

    ``timestamp_attribute`` is for the native read only (the batched local read
    always uses ``event_time``, with the publish-time fallback); None gives it
    publish-time timestamps and watermark.
    """

    def __init__(
        self,
        subscriptions: Sequence[str],
        *,
        session_id: str | None = None,
        id_label: str | None = None,
        timestamp_attribute: str | None = EVENT_TIME_ATTRIBUTE,
    ) -> None:
        super().__init__()
        self.subscriptions = list(subscriptions)
        self.session_id = session_id
        self.id_label = id_label
        self.timestamp_attribute = timestamp_attribute

    def expand(self, pbegin):
        if self.session_id is not None:
            from voc.transforms.sources.direct_pull_evaluator import PullFromSession

            return pbegin | "PullBatches" >> PullFromSession(self.session_id)

        reads = []
        for subscription in self.subscriptions:
            short = subscription.rsplit("/", 1)[-1]
            reads.append(
                pbegin
                | f"Read[{short}]"
                >> beam.io.ReadFromPubSub(
                    subscription=subscription,
                    with_attributes=True,
                    id_label=self.id_label,
                    timestamp_attribute=self.timestamp_attribute,
                )
                | f"Adapt[{short}]" >> beam.Map(from_pubsub_message)
            )
        if len(reads) == 1:
            return reads[0]
        return tuple(reads) | "MergeSubscriptions" >> beam.Flatten()
