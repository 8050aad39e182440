"""The simulated contact centre: channels, teams and agents, customers and their contacts.

Each interaction is drawn the way a contact centre sees one (a channel, an agent
and team, a customer, a root cause or none, telephony numbers), and yields the
agent note and the survey it left behind, stamped with event and arrival times.
Everything comes from one seeded random source, in a fixed order of draws, so
that the same seed always tells the same story.
"""

from __future__ import annotations

import bisect
import itertools
import random
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from voc.pipelines.dev.generate.messages import (
    GeneratedMessage,
    note_version,
    survey_version,
    valid_message,
)
from voc.pipelines.dev.generate.phrases import (
    AGENT_NAMES,
    CHANNEL_WEIGHTS,
    LANGUAGES,
    NUMBER_WORDS,
    PRIMARY_WEIGHTS,
    SECONDARY_WEIGHTS,
    TEAMS_BY_CHANNEL,
)
from voc.pipelines.dev.generate.texts import SIGNAL_CAUSES, Context, agent_note, survey_comment

if TYPE_CHECKING:
    from voc.pipelines.dev.generate.timeline import Plan, Timeline

# Interactions start within this window after `start`: long enough for windowed
# aggregations to see several windows, short enough to look like one busy shift.
SPAN_SECONDS = 4 * 3600

# Key in GenerationReport.causes for interactions planted without any root cause
# (happy customers). The matcher reports such texts as "unclassified".
NO_CAUSE = "none"

NO_CAUSE_RATE = 0.08
SECONDARY_RATE = 0.25
NOTE_RATE = 0.95
SURVEY_RATE = 0.80
# Long holds and transfers only happen live.
LIVE_CHANNELS = ("phone", "chat")

SCORE_RANGES: dict[str, dict[str, tuple[int, int]]] = {
    # sentiment -> score -> inclusive range; effort (ces) is high when unhappy
    "angry": {"csat": (1, 2), "nps": (0, 4), "ces": (5, 7)},
    "neutral": {"csat": (2, 4), "nps": (3, 8), "ces": (3, 5)},
    "positive": {"csat": (3, 5), "nps": (6, 10), "ces": (2, 4)},
    "happy": {"csat": (4, 5), "nps": (8, 10), "ces": (1, 3)},
}
RESOLVED_RATE = {"angry": 0.25, "neutral": 0.55, "positive": 0.85, "happy": 0.97}
SENTIMENTS = ("angry", "neutral", "positive")
SENTIMENT_CUMULATIVE = (40, 80, 100)


@dataclass
class Interaction:
    primary: str
    # (arrival key, message, carries planted PII)
    messages: list[tuple[float, GeneratedMessage, bool]]
    interaction_id: str = ""
    customer_id: str = ""
    began: float = 0.0
    has_survey: bool = False


class World:
    """The generator's state: random source, clock, customers and agents.

    Without a timeline, interactions begin within SPAN_SECONDS of start and arrive
    as they always have (seeds pinned by benchmarks keep their bytes). With one,
    the timeline says when each begins (and may fix its cause, customer and
    survey: see Timeline.plan), clamps event times to its span and draws arrival
    delays, whose classes are kept in arrival_kinds by event id.
    """

    def __init__(
        self, rng: random.Random, start: float, n: int, timeline: Timeline | None = None
    ) -> None:
        self.rng = rng
        self.start = start
        self.timeline = timeline
        # event id -> arrival class, for the messages the timeline did not deliver promptly
        self.arrival_kinds: dict[str, str] = {}
        self.counter = 0
        self.customers: list[str] = []
        # More traffic, more staff; bounded so ids stay readable.
        self.agents_per_team = max(3, min(60, n // 2000))
        teams = [team for teams in TEAMS_BY_CHANNEL.values() for team in teams]
        self.team_numbers = {team: number for number, team in enumerate(teams)}
        self.primary_causes = list(PRIMARY_WEIGHTS)
        self.primary_cum = _cumulative(PRIMARY_WEIGHTS.values())
        self.secondary_causes = list(SECONDARY_WEIGHTS)
        self.secondary_cum = _cumulative(SECONDARY_WEIGHTS.values())
        self.channels = list(CHANNEL_WEIGHTS)
        self.channel_cum = _cumulative(CHANNEL_WEIGHTS.values())

    def interaction(self, plan: Plan | None = None) -> Interaction:
        rng = self.rng
        self.counter += 1
        causes = self._causes(plan.primary if plan is not None else None)
        primary = causes[0] if causes else NO_CAUSE
        channel = self._channel(causes)
        team = rng.choice(TEAMS_BY_CHANNEL[channel])
        agent_number = rng.randrange(self.agents_per_team)
        agent_id = f"agt_{team.replace('-', '_')}_{agent_number:03d}"
        agent_name = AGENT_NAMES[(agent_number * 7 + self.team_numbers[team]) % len(AGENT_NAMES)]
        interaction_id = f"int_{rng.getrandbits(64):016x}"
        if plan is not None and plan.customer_id is not None:
            customer_id = plan.customer_id
        else:
            customer_id = self._customer("no_follow_up" in causes)

        hold = 0
        if "long_hold" in causes:
            hold = rng.randint(600, 3600)
        elif channel in LIVE_CHANNELS:
            hold = rng.randint(0, 90) if rng.random() < 0.7 else rng.randint(90, 420)
        transfers = rng.randint(2, 5) if "transfers" in causes else int(rng.random() < 0.15)
        handle = min(86400, rng.randint(120, 1500) + hold + 60 * transfers)
        if plan is not None:
            began = plan.began
        elif self.timeline is not None:
            began = self.timeline.draw(rng)
        else:
            began = self.start + rng.uniform(0, SPAN_SECONDS)
        ended = began + handle

        context = Context(
            rng,
            {
                "agent": agent_name,
                "minutes": str(max(10, hold // 60)),
                "transfers": str(transfers),
                "transfers_word": NUMBER_WORDS[min(len(NUMBER_WORDS) - 1, max(0, transfers - 2))],
            },
        )
        messages: list[tuple[float, GeneratedMessage, bool]] = []
        has_note = rng.random() < NOTE_RATE
        has_survey = rng.random() < SURVEY_RATE
        if plan is not None and plan.survey:
            has_survey = True
        if not has_note and not has_survey:
            has_note = True
        if has_note:
            # Most notes are written right after the contact; some at the end of a shift.
            delay = rng.uniform(20, 300) if rng.random() < 0.85 else rng.uniform(600, 5400)
            text, cause_ids, pii = agent_note(rng, causes, channel, context)
            created = self._clamp(ended + delay)
            payload = {
                "event_id": self._uuid(),
                "interaction_id": interaction_id,
                "agent_id": agent_id,
                "team": team,
                "channel": channel,
                "created_at": _rfc3339(created),
                "handle_seconds": handle,
                "hold_seconds": hold,
                "transfers": transfers,
                "note": text,
            }
            version = note_version(payload, customer_id)
            arrival = self._arrival(created, payload["event_id"])
            messages.append((arrival, valid_message(payload, cause_ids, version), pii))
        if has_survey:
            submitted = self._clamp(ended + min(3 * 3600, 60 + rng.expovariate(1 / 1200)))
            sentiment = "happy" if not causes else _pick(rng, SENTIMENTS, SENTIMENT_CUMULATIVE)
            comment, cause_ids, pii = survey_comment(rng, causes, sentiment, context)
            payload = {
                "event_id": self._uuid(),
                "interaction_id": interaction_id,
                "customer_id": customer_id,
                "channel": channel,
                "submitted_at": _rfc3339(submitted),
            }
            ranges = SCORE_RANGES[sentiment]
            for score in ("csat", "nps", "ces"):
                roll = rng.random()
                if roll < 0.08:
                    continue  # question skipped: key absent
                payload[score] = None if roll < 0.12 else rng.randint(*ranges[score])
            payload["resolved"] = rng.random() < RESOLVED_RATE[sentiment]
            payload["comment"] = comment
            payload["language"] = rng.choice(LANGUAGES)
            version = survey_version(payload, primary)
            arrival = self._arrival(submitted, payload["event_id"])
            messages.append((arrival, valid_message(payload, cause_ids, version), pii))
        return Interaction(primary, messages, interaction_id, customer_id, began, has_survey)

    def _causes(self, primary: str | None = None) -> list[str]:
        """A primary cause (or none) and maybe a second; a planned primary is kept."""
        rng = self.rng
        if primary is not None:
            causes = [primary]
        elif rng.random() < NO_CAUSE_RATE:
            return []
        else:
            causes = [_pick(rng, self.primary_causes, self.primary_cum)]
        if rng.random() < SECONDARY_RATE:
            second = _pick(rng, self.secondary_causes, self.secondary_cum)
            if second != causes[0]:
                causes.append(second)
        return causes

    def _channel(self, causes: Sequence[str]) -> str:
        rng = self.rng
        if causes and causes[0] in SIGNAL_CAUSES:
            return "phone" if rng.random() < 0.8 else "chat"
        channel = _pick(rng, self.channels, self.channel_cum)
        if channel not in LIVE_CHANNELS and SIGNAL_CAUSES.intersection(causes):
            channel = "phone"
        return channel

    def _customer(self, repeat: bool) -> str:
        rng = self.rng
        if self.customers and rng.random() < (0.7 if repeat else 0.2):
            return rng.choice(self.customers)
        customer = f"cus_{rng.getrandbits(40):010x}"
        self.customers.append(customer)
        return customer

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _clamp(self, event_time: float) -> float:
        return event_time if self.timeline is None else self.timeline.clamp(event_time)

    def _arrival(self, event_time: float, event_id: str) -> float:
        """Publish time: usually seconds after the event, occasionally minutes (late data)."""
        rng = self.rng
        if self.timeline is not None:
            arrival, kind = self.timeline.arrival(rng, event_time)
            if kind != "prompt":
                self.arrival_kinds[event_id] = kind
            return arrival
        if rng.random() < 0.03:
            return event_time + rng.uniform(60, 900)
        return event_time + rng.expovariate(1 / 4)


def _rfc3339(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(epoch)))


def _cumulative(weights: Iterable[int]) -> list[int]:
    return list(itertools.accumulate(weights))


def _pick(rng: random.Random, items: Sequence[str], cumulative: Sequence[int]) -> str:
    """Weighted choice; bisect on cumulative weights is several times cheaper than choices()."""
    return items[bisect.bisect(cumulative, rng.random() * cumulative[-1])]
