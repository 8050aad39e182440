"""Generated messages as JSON lines: a stream that can be saved, replayed and diffed.

Each line keeps the generator's ground truth beside the message, so whoever
replays a saved file can still check what the pipeline made of it.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from voc.pipelines.dev.generate.messages import GeneratedMessage


def write_jsonl(messages: Iterable[GeneratedMessage], path: str | Path | TextIO) -> int:
    """Write messages one JSON object per line to a path or open text file; returns the count.

    data is base64 because malformed payloads may not be valid UTF-8, and a file a
    publisher can replay makes load tests repeatable without regenerating. An open
    file (sys.stdout, say) is written to and left open.
    """
    if isinstance(path, str | Path):
        with Path(path).open("w", encoding="utf-8") as out:
            return write_jsonl(messages, out)
    count = 0
    for message in messages:
        record = {
            "topic": message.topic,
            "attributes": message.attributes,
            "data_b64": base64.b64encode(message.data).decode("ascii"),
            "kind": message.kind,
            "event_type": message.event_type,
            "event_id": message.event_id,
            "cause_ids": list(message.cause_ids),
        }
        path.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
        path.write("\n")
        count += 1
    return count


def read_jsonl(path: str | Path | TextIO) -> list[GeneratedMessage]:
    """Read what write_jsonl wrote (a path or an open text file) back, byte for byte."""
    if isinstance(path, str | Path):
        with Path(path).open(encoding="utf-8") as lines:
            return read_jsonl(lines)
    name = getattr(path, "name", "<stream>")
    messages: list[GeneratedMessage] = []
    for number, line in enumerate(path, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            messages.append(
                GeneratedMessage(
                    topic=record["topic"],
                    data=base64.b64decode(record["data_b64"], validate=True),
                    attributes={str(k): str(v) for k, v in record["attributes"].items()},
                    kind=record["kind"],
                    event_type=record.get("event_type"),
                    event_id=record.get("event_id"),
                    cause_ids=tuple(record.get("cause_ids") or ()),
                )
            )
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise ValueError(f"{name}:{number}: not a generated message: {error}") from error
    return messages
