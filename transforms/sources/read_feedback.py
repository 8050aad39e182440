"""Read survey and agent-note messages from Pub/Sub, per runner.

Locally (the legacy DirectRunner) the read is a :class:`PullSession`: large
bundles and acknowledgement after the sink commits. On Dataflow the native
``ReadFromPubSub`` is the right source: the service checkpoints and
acknowledges after durable commit, and ``id_label`` lets it drop redeliveries
of one published message. Both produce :class:`ReceivedMessage`, so nothing
downstream knows which one ran.
"""

from __future__ import annotations

from collections.abc import Sequence

import apache_beam as beam

from voc.transforms.records import ReceivedMessage


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
    """Messages of all feedback subscriptions as one PCollection[ReceivedMessage]."""

    def __init__(
        self,
        subscriptions: Sequence[str],
        *,
        session_id: str | None = None,
        id_label: str | None = None,
    ) -> None:
        super().__init__()
        self.subscriptions = list(subscriptions)
        self.session_id = session_id
        self.id_label = id_label

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
                    subscription=subscription, with_attributes=True, id_label=self.id_label
                )
                | f"Adapt[{short}]" >> beam.Map(from_pubsub_message)
            )
        if len(reads) == 1:
            return reads[0]
        return tuple(reads) | "MergeSubscriptions" >> beam.Flatten()
