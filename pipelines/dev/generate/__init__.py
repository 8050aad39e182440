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
acceptance test can be reproduced exactly. The wording lives in phrases.yaml, so that
it can be reviewed and extended as English rather than as code. Publishing to Pub/Sub
is done elsewhere.
"""

# The "X as X" imports re-export tables that tests read to check what was planted,
# without making them part of the API that __all__ promises.
from voc.pipelines.dev.generate.jsonl import read_jsonl, write_jsonl
from voc.pipelines.dev.generate.malformed import MALFORMED_DEFECTS as MALFORMED_DEFECTS
from voc.pipelines.dev.generate.messages import GeneratedMessage
from voc.pipelines.dev.generate.phrases import CARDS as CARDS
from voc.pipelines.dev.generate.phrases import CUSTOMER_PHRASES as CUSTOMER_PHRASES
from voc.pipelines.dev.generate.phrases import NOTE_PHRASES as NOTE_PHRASES
from voc.pipelines.dev.generate.phrases import PHONES as PHONES
from voc.pipelines.dev.generate.phrases import PRIMARY_WEIGHTS as PRIMARY_WEIGHTS
from voc.pipelines.dev.generate.phrases import PRODUCT_AREAS as PRODUCT_AREAS
from voc.pipelines.dev.generate.stream import DEFAULT_START, GenerationReport, generate_events
from voc.pipelines.dev.generate.world import NO_CAUSE

__all__ = [
    "DEFAULT_START",
    "NO_CAUSE",
    "GeneratedMessage",
    "GenerationReport",
    "generate_events",
    "read_jsonl",
    "write_jsonl",
]
