"""Small builders of valid events for the transform tests."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from voc.transforms.records import ReceivedMessage


def survey_payload(**overrides: Any) -> dict[str, Any]:
    payload = {
        "event_id": "s-1",
        "interaction_id": "i-1",
        "customer_id": "c-1",
        "channel": "chat",
        "submitted_at": "2026-01-05T10:00:00Z",
        "csat": 2,
        "nps": 3,
        "ces": 6,
        "resolved": False,
        "comment": "The app keeps crashing when I upload a photo.",
        "language": "en",
    }
    payload.update(overrides)
    return payload


def note_payload(**overrides: Any) -> dict[str, Any]:
    payload = {
        "event_id": "n-1",
        "interaction_id": "i-1",
        "agent_id": "a-7",
        "team": "tier1",
        "channel": "phone",
        "created_at": "2026-01-05T09:55:00Z",
        "handle_seconds": 900,
        "hold_seconds": 720,
        "transfers": 2,
        "note": "Cust charged twice for March invoice, refund raised.",
    }
    payload.update(overrides)
    return payload


def message(
    payload: dict[str, Any] | bytes,
    event_type: str | None = "survey",
    schema_version: str | None = "1",
    event_time: str | None = "",
    message_id: str = "",
) -> ReceivedMessage:
    if event_time == "":  # the default: as publishers set it, the payload's own event time
        own = (
            payload.get("submitted_at", payload.get("created_at"))
            if isinstance(payload, dict)
            else None
        )
        event_time = own if isinstance(own, str) else "2026-01-05T10:00:00Z"
    attributes = {
        k: v
        for k, v in {
            "event_type": event_type,
            "schema_version": schema_version,
            "event_time": event_time,
        }.items()
        if v is not None
    }
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return ReceivedMessage(data, attributes, message_id, None, None)


class DuckDBLockHolder:
    """Another process with the DuckDB file open read-write, as an owner's ad-hoc
    session would have; DuckDB then refuses this process's connection."""

    def __init__(self, path: str) -> None:
        script = (
            "import duckdb, sys; con = duckdb.connect(sys.argv[1]); "
            "print('held', flush=True); sys.stdin.read(); con.close()"
        )
        self.process = subprocess.Popen(
            [sys.executable, "-c", script, path],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        if self.process.stdout.readline().strip() != "held":
            raise RuntimeError(f"could not lock {path}")

    @property
    def pid(self) -> int:
        return self.process.pid

    def release(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            self.process.wait(timeout=30)
