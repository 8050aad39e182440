"""Seeded generator of realistic survey and agent-note events, for demos, tests and benchmarks.

Real feedback cannot be shipped with an open-source project, and hand-written fixtures
are too uniform to exercise a text pipeline: every customer in them says "the app
crashed" the same way. This package builds interactions the way a contact centre sees
them (a channel, an agent and team, a customer, a root cause or none, an agent note
and maybe a survey), writes each text from interchangeable parts in several tones,
and mixes in what production streams contain: events out of order, re-sent
duplicates, malformed messages, personal data that must be redacted and, as during
any contract migration, surveys on two schema versions at once.

Everything is a pure function of (n, seed, start, rates), so a failing benchmark or
acceptance test can be reproduced exactly. With days, the stream has time in it
(daily and weekly cycles, a surge, repeat contacts, late arrivals) and
generate_with_truth also says what the event-time branches must find in it. The
wording lives in phrases.yaml, so that it can be reviewed and extended as English
rather than as code. Publishing to Pub/Sub is done elsewhere.
"""

# The "X as X" imports re-export tables that tests read to check what was planted,
# without making them part of the API that __all__ promises.
from voc.pipelines.dev.generate.jsonl import read_jsonl, write_jsonl
from voc.pipelines.dev.generate.malformed import MALFORMED_DEFECTS as MALFORMED_DEFECTS
from voc.pipelines.dev.generate.messages import GeneratedMessage
from voc.pipelines.dev.generate.phrases import CARDS as CARDS
from voc.pipelines.dev.generate.phrases import CUSTOMER_PHRASES as CUSTOMER_PHRASES
from voc.pipelines.dev.generate.phrases import DEPARTMENTS as DEPARTMENTS
from voc.pipelines.dev.generate.phrases import NOTE_PHRASES as NOTE_PHRASES
from voc.pipelines.dev.generate.phrases import PHONES as PHONES
from voc.pipelines.dev.generate.phrases import PRIMARY_WEIGHTS as PRIMARY_WEIGHTS
from voc.pipelines.dev.generate.phrases import PRODUCT_AREAS as PRODUCT_AREAS
from voc.pipelines.dev.generate.stream import (
    DEFAULT_START,
    GenerationReport,
    generate_events,
    generate_with_truth,
)
from voc.pipelines.dev.generate.timeline import DEFAULT_SURGE_CAUSE, default_start
from voc.pipelines.dev.generate.truth import truth_path, write_truth
from voc.pipelines.dev.generate.world import NO_CAUSE

__all__ = [
    "DEFAULT_START",
    "DEFAULT_SURGE_CAUSE",
    "NO_CAUSE",
    "GeneratedMessage",
    "GenerationReport",
    "default_start",
    "generate_events",
    "generate_with_truth",
    "read_jsonl",
    "truth_path",
    "write_jsonl",
    "write_truth",
]
