"""Ground truth of a generated stream: what the event-time branches must find in it.

Acceptance tests compare the pipeline's rollups, repeat contacts and late events
with this, so every figure is recomputed from the messages actually emitted (after
the stream was cut to n messages), and from the little the messages cannot say
themselves: the planted primary cause of each interaction, how each message was
delayed, and the planted surge.

Definitions (all times UTC; "valid" messages are kind == "valid": a re-sent
duplicate and a malformed message never count):

- event time: a message's event_time attribute (= submitted_at / created_at),
  whole seconds.
- interaction start: the earliest event time among its valid messages (the
  interactions table's first_event_at).
- windows: whole UTC hours (the rollup window). ``hourly`` has every window from
  the hour of the span's start to the hour of the span's last second or of the
  latest event time, whichever is later; ``daily`` every UTC date they touch.
- hourly[W].interactions[C]: interactions whose start is in W and whose planted
  primary cause is C (NO_CAUSE, "none", for happy customers);
  interaction_total their sum.
- hourly[W].messages[C]: valid surveys and agent notes whose event time is in W
  and whose cause_ids contain C (primary or secondary, as the text or telephony
  numbers carry it; a message naming no cause counts under NO_CAUSE);
  message_total counts every valid message in W.
- daily[D]: interactions (by start), messages, surveys and notes (by event time).
- repeat_contacts: every pair of interactions E, L with a valid survey each, the
  same customer_id (only surveys carry it), the same planted primary cause C (not
  NO_CAUSE), and 0 <= start(L) - start(E) <= 7 days, where E is the earlier by
  (start, interaction_id). Every such pair, not only consecutive contacts; random
  reuse of customers makes some pairs that were never planted (planted: false;
  true when the later one was planted as a follow-up of the earlier, 1-6 days on).
- planted_returns: customers planted to come back about the same cause 8-14 days
  later; never a repeat contact (each is checked to be more than 7 days apart).
- arrivals: valid messages by arrival class: prompt (seconds after the event),
  out_of_order (1-5 min, within the 10 min watermark bound), beyond_bound (20-60
  min: behind the watermark, within the 2 h allowed lateness), late (1-3 days:
  beyond the allowed lateness). late_event_ids lists the late ones; each arrives
  at least a day after its event time, with hours of newer events before it.
- surge: the planted surge (null without one): cause, its department in the
  default taxonomy pack, the UTC hours [start, end), and the expected multiplier
  of the cause's interactions per hour against an ordinary hour at that time;
  planted_interactions counts the extra interactions emitted for it. The surge is
  planted on when contacts begin; their first event times trail by minutes (the
  handling time, then the note or survey), so the hour after it sees some of it.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from voc.pipelines.dev.generate.messages import GeneratedMessage
from voc.pipelines.dev.generate.phrases import DEPARTMENTS
from voc.pipelines.dev.generate.timeline import (
    ALLOWED_LATENESS,
    ARRIVAL_CLASSES,
    HOUR,
    LATE,
    PROMPT,
    REPEAT_WINDOW,
    WATERMARK_BOUND,
    Surge,
)
from voc.pipelines.dev.generate.world import NO_CAUSE

TRUTH_SUFFIX = ".truth.json"
TRUTH_VERSION = 1


@dataclass
class Planted:
    """What the generator decided that the messages do not carry, for ground_truth."""

    parameters: dict[str, Any]
    start: float
    end: float  # the end of the span interactions begin in
    surge: Surge | None = None
    # interaction id -> planted primary cause, for every interaction generated
    primaries: dict[str, str] = field(default_factory=dict)
    # interaction id -> (plan kind, earlier interaction id) for surge, follow_up, return
    plans: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    # event id -> arrival class of the messages that did not arrive promptly
    arrival_kinds: dict[str, str] = field(default_factory=dict)


@dataclass
class _Contact:
    start: str = "~"  # the earliest event time seen; "~" sorts after every timestamp
    customer_id: str | None = None


def ground_truth(
    messages: Sequence[GeneratedMessage], report_counts: dict[str, Any], planted: Planted
) -> dict[str, Any]:
    """The ground truth of messages as a JSON-ready dict (see the module docstring)."""
    valid = [message for message in messages if message.kind == "valid"]
    contacts: dict[str, _Contact] = defaultdict(_Contact)
    hourly_messages: dict[str, Counter[str]] = defaultdict(Counter)
    message_totals: Counter[str] = Counter()
    daily: dict[str, Counter[str]] = defaultdict(Counter)
    for message in valid:
        event_time = message.attributes["event_time"]
        body = json.loads(message.data)
        contact = contacts[body["interaction_id"]]
        contact.start = min(contact.start, event_time)
        if message.event_type == "survey":
            contact.customer_id = body["customer_id"]
        window = _window(event_time)
        message_totals[window] += 1
        hourly_messages[window].update(message.cause_ids or (NO_CAUSE,))
        day = daily[event_time[:10]]
        day["messages"] += 1
        day["surveys" if message.event_type == "survey" else "notes"] += 1

    hourly_interactions: dict[str, Counter[str]] = defaultdict(Counter)
    for interaction_id, contact in contacts.items():
        hourly_interactions[_window(contact.start)][planted.primaries[interaction_id]] += 1
        daily[contact.start[:10]]["interactions"] += 1

    latest = max((m.attributes["event_time"] for m in valid), default=rfc3339_utc(planted.start))
    windows = _windows(planted.start, max(_epoch(latest), planted.end - 1))
    hourly = {
        window: {
            "interactions": dict(sorted(hourly_interactions[window].items())),
            "interaction_total": sum(hourly_interactions[window].values()),
            "messages": dict(sorted(hourly_messages[window].items())),
            "message_total": message_totals[window],
        }
        for window in windows
    }
    days = sorted({window[:10] for window in windows})
    arrivals = Counter(planted.arrival_kinds.get(m.event_id or "", PROMPT) for m in valid)
    return {
        "truth_version": TRUTH_VERSION,
        "parameters": planted.parameters,
        "rules": {
            "window_seconds": HOUR,
            "repeat_window_seconds": REPEAT_WINDOW,
            "watermark_bound_seconds": WATERMARK_BOUND,
            "allowed_lateness_seconds": ALLOWED_LATENESS,
        },
        "counts": report_counts,
        "hourly": hourly,
        "daily": {
            day: {key: daily[day][key] for key in ("interactions", "messages", "surveys", "notes")}
            for day in days
        },
        "surge": _surge(planted),
        "repeat_contacts": _repeats(contacts, planted),
        "planted_returns": _returns(contacts, planted),
        "arrivals": {kind: arrivals[kind] for kind in (PROMPT, *(c[0] for c in ARRIVAL_CLASSES))},
        "late_event_ids": sorted(
            m.event_id for m in valid if planted.arrival_kinds.get(m.event_id or "") == LATE
        ),
    }


def _repeats(contacts: dict[str, _Contact], planted: Planted) -> list[dict[str, Any]]:
    primaries = planted.primaries
    by_customer: dict[str, list[tuple[float, str, str]]] = defaultdict(list)
    for interaction_id, contact in contacts.items():
        if contact.customer_id is not None:
            by_customer[contact.customer_id].append(
                (_epoch(contact.start), interaction_id, contact.start)
            )
    pairs = []
    for customer_id, history in by_customer.items():
        history.sort()
        for position, (began, earlier_id, earlier_at) in enumerate(history):
            cause = primaries[earlier_id]
            if cause == NO_CAUSE:
                continue
            for later_began, later_id, later_at in history[position + 1 :]:
                if later_began - began > REPEAT_WINDOW:
                    break
                if primaries[later_id] == cause:
                    pairs.append(
                        {
                            "earlier_interaction_id": earlier_id,
                            "later_interaction_id": later_id,
                            "cause_id": cause,
                            "department": DEPARTMENTS.get(cause),
                            "customer_id": customer_id,
                            "earlier_at": earlier_at,
                            "later_at": later_at,
                            "planted": planted.plans.get(later_id) == ("follow_up", earlier_id),
                        }
                    )
    pairs.sort(
        key=lambda pair: (
            pair["earlier_at"],
            pair["earlier_interaction_id"],
            pair["later_at"],
            pair["later_interaction_id"],
        )
    )
    return pairs


def _returns(contacts: dict[str, _Contact], planted: Planted) -> list[dict[str, Any]]:
    """Planted returns after the repeat window whose two surveys were both emitted."""
    returns = []
    for later_id, (kind, earlier_id) in planted.plans.items():
        if kind != "return" or earlier_id is None:
            continue
        earlier, later = contacts.get(earlier_id), contacts.get(later_id)
        if earlier is None or later is None or not (earlier.customer_id and later.customer_id):
            continue
        gap = _epoch(later.start) - _epoch(earlier.start)
        if gap <= REPEAT_WINDOW:  # pragma: no cover - RETURN_GAP keeps them apart
            raise AssertionError(f"planted return {earlier_id} -> {later_id} is a repeat")
        returns.append(
            {
                "earlier_interaction_id": earlier_id,
                "later_interaction_id": later_id,
                "cause_id": planted.primaries[later_id],
                "customer_id": later.customer_id,
                "gap_hours": round(gap / HOUR, 3),
            }
        )
    returns.sort(key=lambda item: (item["earlier_interaction_id"], item["later_interaction_id"]))
    return returns


def _surge(planted: Planted) -> dict[str, Any] | None:
    surge = planted.surge
    if surge is None:
        return None
    result: dict[str, Any] = {
        "cause_id": surge.cause_id,
        "start": rfc3339_utc(surge.start),
        "end": rfc3339_utc(surge.end),
        "hours": surge.hours,
        "multiplier": surge.multiplier,
        "planted_interactions": sum(kind == "surge" for kind, _ in planted.plans.values()),
    }
    if surge.cause_id in DEPARTMENTS:
        result["department"] = DEPARTMENTS[surge.cause_id]
    return result


def truth_path(out: str | Path) -> Path:
    """Where the truth of events written to `out` goes: events.jsonl -> events.truth.json."""
    path = Path(out)
    return path.with_name(path.name.removesuffix(path.suffix) + TRUTH_SUFFIX)


def write_truth(truth: dict[str, Any], path: str | Path | TextIO) -> None:
    """Deterministic JSON (sorted keys, two-space indent) to a path or an open text file."""
    text = json.dumps(truth, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    if isinstance(path, str | Path):
        Path(path).write_text(text, encoding="utf-8")
    else:
        path.write(text)


def rfc3339_utc(epoch: float) -> str:
    """Whole seconds, UTC, the way generated event times are written."""
    return datetime.fromtimestamp(int(epoch), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _epoch(rfc3339: str) -> float:
    return datetime.fromisoformat(rfc3339).timestamp()


def _window(event_time: str) -> str:
    return event_time[:13] + ":00:00Z"


def _windows(first: float, last: float) -> list[str]:
    hour = first - first % HOUR
    windows = []
    while hour <= last:
        windows.append(rfc3339_utc(hour))
        hour += HOUR
    return windows
