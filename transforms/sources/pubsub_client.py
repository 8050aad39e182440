"""The Pub/Sub subscriber client, able to receive every message Pub/Sub can deliver.

Pub/Sub accepts messages up to 10 MB and one pull can return several. Against
the real service the client library opens its gRPC channel without a receive
limit; against the emulator (``PUBSUB_EMULATOR_HOST``) it falls back to gRPC's
default of 4 MiB, and one large message then fails every pull of its
subscription (``ResourceExhausted: Received message larger than max``) while
the valid messages behind it wait forever. So the emulator's channel is built
here with the same unlimited sizes the library uses for the real service.
"""

from __future__ import annotations

import os

# What the client library sets on its own channels to the real service.
UNLIMITED_MESSAGE_SIZE = (
    ("grpc.max_send_message_length", -1),
    ("grpc.max_receive_message_length", -1),
)


def subscriber_client():
    """A SubscriberClient for the emulator if ``PUBSUB_EMULATOR_HOST`` is set, else for
    Pub/Sub, with no limit on the size of what a pull returns."""
    from google.cloud import pubsub_v1

    emulator = os.environ.get("PUBSUB_EMULATOR_HOST")
    if not emulator:
        return pubsub_v1.SubscriberClient()
    import grpc
    from google.pubsub_v1.services.subscriber.transports import SubscriberGrpcTransport

    channel = grpc.insecure_channel(emulator, options=list(UNLIMITED_MESSAGE_SIZE))
    return pubsub_v1.SubscriberClient(transport=SubscriberGrpcTransport(channel=channel))
