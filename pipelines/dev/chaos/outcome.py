"""What the tables must hold after the chaos, and how far what they hold is from it."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import duckdb

from voc.pipelines.dev.generate import GeneratedMessage


@dataclass(frozen=True)
class Outcome:
    """What the tables hold, by what identifies each row: the event ids of the fact
    tables, the (event, cause) pairs of the tags and the (Pub/Sub message id, reason)
    pairs of the dead letters. Expected outcomes hold each once; observed ones keep
    any duplicates."""

    surveys: Collection[str]
    agent_notes: Collection[str]
    tags: Collection[tuple[str, str]]
    dead_letters: Collection[tuple[str, str]]


def expected_outcome(
    messages: Sequence[GeneratedMessage], message_ids: Sequence[str], taxonomy_path: str | None
) -> Outcome:
    """What one perfect run stores for these messages, given in the order they were
    first published with their ids: parse and tag each in this process, as the job would.

    A message id counts once (a re-publish under its old id is a redelivery). A
    message the parser refuses is a dead letter with the parser's reason. Of the
    valid ones, the first version of each event_id is the fact and gets the tags;
    a later message with the same id and other content, or in the other fact table,
    is a ``conflicting_duplicate`` dead letter. Content is compared as parsed JSON,
    not through the sink's hash, so the check does not share the sink's code.
    """
    from voc.transforms.parse_event import parse_message
    from voc.transforms.records import InvalidMessage, ReceivedMessage
    from voc.transforms.sinks.event_identity import CONFLICT_REASON
    from voc.transforms.tag_feedback import shared_taxonomy, tag_event

    taxonomy = shared_taxonomy(taxonomy_path)
    facts: dict[str, set[str]] = {"survey": set(), "agent_note": set()}
    tags, dead, seen = set(), set(), set()
    first: dict[str, tuple[str, object]] = {}  # event_id -> (event_type, payload)
    for message, message_id in zip(messages, message_ids, strict=True):
        if message_id in seen:
            continue
        seen.add(message_id)
        try:
            event = parse_message(
                ReceivedMessage(message.data, message.attributes, message_id, None)
            )
        except InvalidMessage as error:
            dead.add((message_id, error.reason))
            continue
        version = (event.event_type, event.payload)
        if first.setdefault(event.event_id, version) != version:
            dead.add((message_id, CONFLICT_REASON))
            continue
        facts[event.event_type].add(event.event_id)
        tags.update((event.event_id, cause.cause_id) for cause in tag_event(event, taxonomy).causes)
    return Outcome(
        frozenset(facts["survey"]), frozenset(facts["agent_note"]), frozenset(tags), frozenset(dead)
    )


def observed_outcome(duckdb_path: str) -> Outcome:
    with duckdb.connect(duckdb_path, read_only=True) as con:

        def column(sql: str) -> list:
            return [row[0] if len(row) == 1 else tuple(row) for row in con.execute(sql).fetchall()]

        return Outcome(
            surveys=column("select event_id from surveys"),
            agent_notes=column("select event_id from agent_notes"),
            tags=column("select event_id, cause_id from feedback_tags"),
            dead_letters=column("select message_id, reason from dead_letters"),
        )


def tally(want: Collection, got: Collection) -> dict[str, int]:
    """expected, stored, missing, doubled (stored more than once) and extra."""
    want, distinct = set(want), set(got)
    return {
        "expected": len(want),
        "stored": len(got),
        "missing": len(want - distinct),
        "doubled": len(got) - len(distinct),
        "extra": len(distinct - want),
    }


def compare(expected: Outcome, observed: Outcome) -> dict[str, dict[str, int]]:
    """Per table, then per dead-letter reason (``dead_letters/<reason>``): a tally."""
    result = {
        name: tally(getattr(expected, name), getattr(observed, name))
        for name in ("surveys", "agent_notes", "tags", "dead_letters")
    }
    reasons = {reason for _, reason in [*expected.dead_letters, *observed.dead_letters]}
    for reason in sorted(reasons):
        result[f"dead_letters/{reason}"] = tally(
            [row for row in expected.dead_letters if row[1] == reason],
            [row for row in observed.dead_letters if row[1] == reason],
        )
    return result


# -- hostile messages ---------------------------------------------------------------
