"""The pull sessions of this process, by id: how the runner's evaluator and the sink
reach the session that pulled a message.

The legacy DirectRunner runs everything in this process but pickles and re-creates
transforms and DoFns, so they carry a session id, not the session; the sink
acknowledges through the id each message's ack handle names.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from voc.transforms.records import AckHandle
from voc.transforms.sources.pull_pubsub import PullSession

_SESSIONS: dict[str, PullSession] = {}
_SESSIONS_LOCK = threading.Lock()


def register_session(session: PullSession) -> PullSession:
    """Make a session reachable from the runner's evaluator and the sink."""
    with _SESSIONS_LOCK:
        _SESSIONS[session.session_id] = session
    return session


def get_session(session_id: str) -> PullSession:
    with _SESSIONS_LOCK:
        session = _SESSIONS.get(session_id)
    if session is None:
        raise LookupError(
            f"no Pub/Sub pull session {session_id!r} in this process; the batched local "
            "source only runs on the in-process DirectRunner"
        )
    return session


def unregister_session(session_id: str) -> None:
    with _SESSIONS_LOCK:
        _SESSIONS.pop(session_id, None)


def sessions_of(handles: Iterable[AckHandle | None]) -> list[PullSession]:
    """The live sessions these messages came from (none for runner-acked messages)."""
    ids = {handle.session_id for handle in handles if handle is not None}
    with _SESSIONS_LOCK:
        return [_SESSIONS[i] for i in ids if i in _SESSIONS]


def acknowledge_committed(handles: Iterable[AckHandle | None]) -> int:
    """Acknowledge committed messages, grouped by session. Returns how many."""
    by_session: dict[str, list[AckHandle]] = {}
    for handle in handles:
        if handle is not None:
            by_session.setdefault(handle.session_id, []).append(handle)
    for session_id, session_handles in by_session.items():
        get_session(session_id).acknowledge(session_handles)
    return sum(len(h) for h in by_session.values())
