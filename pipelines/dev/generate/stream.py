"""The generated stream in arrival order, and the report of exactly what it holds.

Production streams mix valid events with events out of order, re-sent duplicates
and malformed messages; acceptance tests need all of them at known counts to say
where every message must end up. With `days`, the stream also has time in it
(timeline.py: daily and weekly cycles, a surge, repeat contacts, late arrivals)
and generate_with_truth says what the event-time branches must find (truth.py).
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from voc.pipelines.dev.generate.malformed import MALFORMED_DEFECTS, malformed
from voc.pipelines.dev.generate.messages import GeneratedMessage
from voc.pipelines.dev.generate.phrases import PRIMARY_WEIGHTS
from voc.pipelines.dev.generate.timeline import DEFAULT_SURGE_CAUSE, Timeline, default_start
from voc.pipelines.dev.generate.truth import Planted, ground_truth, rfc3339_utc
from voc.pipelines.dev.generate.world import SPAN_SECONDS, World
from voc.pipelines.topology import SURVEYS_TOPIC

# Fixed so that output depends only on the arguments, never on the clock.
DEFAULT_START = datetime(2026, 1, 5, 9, 0, 0, tzinfo=UTC)


@dataclass
class GenerationReport:
    """Exact counts of what generate_events produced, for acceptance tests to compare.

    Valid unique surveys should land in the surveys table, valid unique notes in
    agent_notes, malformed messages in dead_letters, and duplicates nowhere.
    causes maps each planted primary cause (NO_CAUSE for happy customers) to its
    number of interactions; pii_texts counts valid messages with planted personal
    data, which the pipeline must redact.
    """

    messages: int = 0
    valid_surveys: int = 0
    valid_notes: int = 0
    duplicates: int = 0
    malformed: int = 0
    interactions: int = 0
    causes: dict[str, int] = field(default_factory=dict)
    pii_texts: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict, causes sorted by name so output diffs cleanly."""
        result = asdict(self)
        result["causes"] = dict(sorted(self.causes.items()))
        return result


def generate_events(
    n: int,
    seed: int = 7,
    start: datetime | None = None,
    malformed_rate: float = 0.01,
    duplicate_rate: float = 0.01,
    *,
    days: int | None = None,
    surge_cause: str | None = DEFAULT_SURGE_CAUSE,
) -> tuple[list[GeneratedMessage], GenerationReport]:
    """Generate exactly n messages in arrival order, and a report of what they contain.

    round(n * malformed_rate) are malformed and round(n * duplicate_rate) are exact
    re-sends of earlier valid messages; the rest are valid surveys and agent notes
    of generated interactions. The same arguments always give the same bytes.

    Without days, interactions begin within 4 hours of start (default DEFAULT_START),
    as they always have. With days, they spread over [start, start + days) with
    daily and weekly cycles, repeat contacts, late arrivals and, unless surge_cause
    is None, a surge of that cause (see timeline.py); start then defaults to the
    current hour minus days (so that output depends on the clock: pass start to
    reproduce it). A start without a time zone is UTC.
    """
    messages, report, _ = _generate(
        n, seed, start, malformed_rate, duplicate_rate, days, surge_cause
    )
    return messages, report


def generate_with_truth(
    n: int,
    seed: int = 7,
    start: datetime | None = None,
    malformed_rate: float = 0.01,
    duplicate_rate: float = 0.01,
    *,
    days: int | None = None,
    surge_cause: str | None = DEFAULT_SURGE_CAUSE,
) -> tuple[list[GeneratedMessage], GenerationReport, dict[str, Any]]:
    """generate_events (the same messages for the same arguments), plus its ground truth.

    The truth is a JSON-ready dict whose figures are defined in truth.py; write it
    with write_truth.
    """
    messages, report, planted = _generate(
        n, seed, start, malformed_rate, duplicate_rate, days, surge_cause
    )
    return messages, report, ground_truth(messages, report.to_dict(), planted)


def _generate(
    n: int,
    seed: int,
    start: datetime | None,
    malformed_rate: float,
    duplicate_rate: float,
    days: int | None,
    surge_cause: str | None,
) -> tuple[list[GeneratedMessage], GenerationReport, Planted]:
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"n must be a non-negative integer, got {n!r}")
    for name, rate in (("malformed_rate", malformed_rate), ("duplicate_rate", duplicate_rate)):
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"{name} must be between 0 and 1, got {rate!r}")
    if malformed_rate + duplicate_rate > 1.0:
        raise ValueError("malformed_rate + duplicate_rate must not exceed 1")
    if days is not None and (isinstance(days, bool) or not isinstance(days, int) or days < 1):
        raise ValueError(f"days must be a positive integer, got {days!r}")
    if surge_cause is not None and surge_cause not in PRIMARY_WEIGHTS:
        raise ValueError(f"surge_cause must be one of {', '.join(PRIMARY_WEIGHTS)}")
    if start is None:
        start = DEFAULT_START if days is None else default_start(days)
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)

    n_malformed = round(n * malformed_rate)
    n_duplicates = round(n * duplicate_rate)
    n_valid = n - n_malformed - n_duplicates
    if n_valid == 0 and n_duplicates:
        n_duplicates, n_valid = 0, n_duplicates  # nothing to re-send

    rng = random.Random(seed)
    timeline = None
    if days is not None:
        timeline = Timeline(rng, start.timestamp(), days, surge_cause)
    world = World(rng, start.timestamp(), n, timeline)
    report = GenerationReport()
    planted = _planted(n, seed, start, malformed_rate, duplicate_rate, days, timeline)
    # (arrival key, sequence number, message); sorting by key gives arrival order.
    stream: list[tuple[float, int, GeneratedMessage]] = []
    while len(stream) < n_valid:
        plan = timeline.plan(rng) if timeline is not None else None
        interaction = world.interaction(plan)
        if timeline is not None:
            timeline.remember(interaction)
        planted.primaries[interaction.interaction_id] = interaction.primary
        if plan is not None and plan.kind != "normal":
            planted.plans[interaction.interaction_id] = (plan.kind, plan.earlier_id)
        messages = interaction.messages
        if len(stream) + len(messages) > n_valid:
            messages = messages[: n_valid - len(stream)]
        report.interactions += 1
        report.causes[interaction.primary] = report.causes.get(interaction.primary, 0) + 1
        for key, message, has_pii in messages:
            stream.append((key, len(stream), message))
            if message.topic == SURVEYS_TOPIC:
                report.valid_surveys += 1
            else:
                report.valid_notes += 1
            report.pii_texts += has_pii

    originals = rng.sample(range(len(stream)), min(n_duplicates, len(stream)))
    sequence = len(stream)
    extra: list[tuple[float, int, GeneratedMessage]] = []
    for index in originals:
        key, _, original = stream[index]
        # Re-sent after an ack deadline passed: seconds to minutes later.
        resend = dataclasses.replace(
            original, kind="duplicate", attributes=dict(original.attributes)
        )
        extra.append((key + rng.uniform(5.0, 600.0), sequence, resend))
        sequence += 1
    report.duplicates = len(extra)

    low = min((key for key, _, _ in stream), default=world.start)
    high = max((key for key, _, _ in stream), default=planted.end)
    defects = list(MALFORMED_DEFECTS)
    for number in range(n_malformed):
        if number % len(defects) == 0:
            rng.shuffle(defects)
        message = malformed(world, defects[number % len(defects)])
        extra.append((rng.uniform(low, high), sequence, message))
        sequence += 1
    report.malformed = n_malformed

    stream.extend(extra)
    stream.sort(key=lambda item: (item[0], item[1]))
    messages_out = [message for _, _, message in stream]
    report.messages = len(messages_out)
    report.causes = dict(sorted(report.causes.items()))
    planted.arrival_kinds = world.arrival_kinds
    return messages_out, report, planted


def _planted(
    n: int,
    seed: int,
    start: datetime,
    malformed_rate: float,
    duplicate_rate: float,
    days: int | None,
    timeline: Timeline | None,
) -> Planted:
    """The record ground_truth needs, starting with the parameters that reproduce the run."""
    if timeline is None:
        begin, end, surge = start.timestamp(), start.timestamp() + SPAN_SECONDS, None
    else:
        begin, end, surge = timeline.start, timeline.end, timeline.surge
    parameters = {
        "n": n,
        "seed": seed,
        "start": rfc3339_utc(begin),
        "end": rfc3339_utc(end),
        "days": days,
        "malformed_rate": malformed_rate,
        "duplicate_rate": duplicate_rate,
        "surge_cause": surge.cause_id if surge is not None else None,
    }
    return Planted(parameters, begin, end, surge)
