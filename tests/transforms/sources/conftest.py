"""A factory of registered pull sessions on the test's topology, finished after the test."""

from __future__ import annotations

import pytest

from voc.transforms.sources.pull_pubsub import PullSession
from voc.transforms.sources.session_registry import register_session, unregister_session


@pytest.fixture
def session(pubsub_topology):
    made = []

    def make(**kwargs) -> PullSession:
        created = register_session(
            PullSession(list(pubsub_topology.subscriptions.values()), **kwargs)
        )
        made.append(created)
        return created

    yield make
    for created in made:
        created.mark_finished()
        unregister_session(created.session_id)
