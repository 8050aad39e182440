"""Publishing, and re-publishing under the same ids after the emulator lost everything."""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping, Sequence

from voc.pipelines.dev.generate import GeneratedMessage
from voc.pipelines.ops.publish import publish_messages

# Pub/Sub's limits of one publish request (the emulator enforces the size too). A
# single message up to the size limit still goes alone.
_PUBLISH_REQUEST_MESSAGES = 1000
_PUBLISH_REQUEST_BYTES = 9_000_000

# A message as published, and the id Pub/Sub gave it.
Published = tuple[GeneratedMessage, str]


def republish_requests(published: Sequence[Published]) -> Iterator[list[Published]]:
    """The messages in the order of their ids, cut into publish requests: each a run
    of consecutive ids on one topic, within Pub/Sub's limits. Sent one after the
    other to a fresh emulator, which numbers messages from 1 as they arrive, each
    message gets its old id back (as long as the ids were 1..N to begin with)."""
    request: list[Published] = []
    size = 0
    for message, message_id in sorted(published, key=lambda entry: int(entry[1])):
        message_bytes = len(message.data) + sum(
            len(k) + len(v) for k, v in message.attributes.items()
        )
        if request and (
            message.topic != request[-1][0].topic
            or len(request) >= _PUBLISH_REQUEST_MESSAGES
            or size + message_bytes > _PUBLISH_REQUEST_BYTES
        ):
            yield request
            request, size = [], 0
        request.append((message, message_id))
        size += message_bytes
    if request:
        yield request


class Ledger:
    """Every message the harness published, with its id, in publish order: what the
    expected outcome is computed from, and what an emptied emulator gets again."""

    def __init__(self, project: str, topics: Mapping[str, str]) -> None:
        self.project = project
        self.topics = dict(topics)
        self.entries: list[Published] = []

    def publish(self, messages: Sequence[GeneratedMessage]) -> list[str]:
        ids = publish_messages(messages, self.project, topics=self.topics)
        self.entries.extend(zip(messages, ids, strict=True))
        return ids

    def republish(self) -> int:
        """Publish everything again under its old id; returns how many requests it took.

        Raises if the emulator numbers a message differently: the comparison at the
        end would then be meaningless (see the module docstring)."""
        from google.cloud import pubsub_v1

        publisher = pubsub_v1.PublisherClient()
        with warnings.catch_warnings():
            # The plain publish request, not the client's batching one, which sends
            # batches concurrently and so in no fixed order. Deprecated, not going away.
            warnings.simplefilter("ignore", DeprecationWarning)
            api = publisher.api
        requests = 0
        try:
            for request in republish_requests(self.entries):
                topic = request[0][0].topic
                response = api.publish(
                    topic=publisher.topic_path(self.project, self.topics.get(topic, topic)),
                    messages=[
                        pubsub_v1.types.PubsubMessage(data=m.data, attributes=m.attributes)
                        for m, _ in request
                    ],
                    timeout=120,
                )
                requests += 1
                wanted = [message_id for _, message_id in request]
                if list(response.message_ids) != wanted:
                    raise RuntimeError(
                        f"chaos: the restarted emulator gave ids {list(response.message_ids)[:3]}"
                        f"... to messages that had {wanted[:3]}...; was another publisher "
                        "using it, or did it not start from 1?"
                    )
        finally:
            publisher.transport.close()
        return requests


# -- the job --------------------------------------------------------------------------
