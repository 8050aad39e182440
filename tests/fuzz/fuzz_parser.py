"""A long, seeded fuzz run of parse_message and tag_event on mutated real messages.

The property tests in tests/transforms/test_parse_fuzz.py run a few hundred examples
per property so that ``make test`` stays fast; that is enough to pin the contract but
not to shake out rare paths. This runs as many examples as asked (100,000 by default,
about a minute), starting from what the generator publishes and breaking it the ways
streams break: flipped and inserted bytes, truncation, wrong field types, missing or
garbled attributes, huge values, non-strict JSON and hostile free text.

    python -m tests.fuzz.fuzz_parser --examples 100000 --seed 1 --json fuzz.json

A crash is any exception out of parse_message other than InvalidMessage, or any
exception out of tag_event for a message that parsed: in the pipeline either would
become a dead letter with an exception type for a reason, i.e. a bug. A contract
violation is an InvalidMessage whose reason is not one of REJECTION_REASONS or whose
detail is not one bounded line of text. Either makes the exit code 1, and the first
one is printed with its input so it can be reproduced.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from voc.pipelines.dev.generate import generate_events
from voc.transforms.parse_event import EVENT_TIME_FIELD, REJECTION_REASONS, parse_message
from voc.transforms.records import MAX_ERROR_CHARS, InvalidMessage, ReceivedMessage
from voc.transforms.tag_feedback import TEXT_FIELD, shared_taxonomy, tag_event
from voc.transforms.taxonomy import Taxonomy

DEFAULT_EXAMPLES = 100_000
# How much of an input's repr a report shows; enough to rebuild it by hand.
REPR_CHARS = 600
# Messages the mutations start from. The generator is deterministic, so a seed
# reproduces the same bases and the same mutations.
BASE_MESSAGES = 1500
# Huge values cost tens of milliseconds each, so they are rare; they are built once.
HUGE_RATE = 0.0005
MAX_TEXT_RATE = 0.002
HUGE_CHARS = 10_000_000
MAX_TEXT_CHARS = 20_000  # the contracts' maxLength for comment and note


@dataclass
class Sample:
    """One input: the message to parse and the mutations that made it."""

    data: bytes
    attributes: dict[str, str]
    mutations: list[str] = field(default_factory=list)

    def describe(self) -> dict[str, Any]:
        return {
            "mutations": self.mutations,
            "attributes": _clip(repr(self.attributes)),
            "data": _clip(repr(self.data)),
            "data_bytes": len(self.data),
        }


def _clip(text: str, limit: int = REPR_CHARS) -> str:
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} chars)"


# ---------------------------------------------------------------------------
# Ingredients
# ---------------------------------------------------------------------------

# Byte strings that are each a classic way to break a decoder or a parser.
SPECIAL_BYTES: tuple[bytes, ...] = (
    b"\xff",
    b"\xfe\xff",
    b"\xc0\xaf",  # overlong "/"
    b"\xed\xa0\x80",  # a UTF-16 surrogate encoded as UTF-8
    b"\xe2\x82",  # a three-byte sequence cut short
    b"\xf4\x90\x80\x80",  # past U+10FFFF
    b"\x00",
    b"\xef\xbb\xbf",  # byte order mark
    b'"',
    b"\\",
    b"\\u",
    b"\\ud800",
    b"\\udfff\\ud800",
    b"NaN",
    b"-Infinity",
    b"1e400",
    b"9" * 5000,
    b"[" * 5000,
    b'{"a":' * 3000,
    b"}",
    b",",
    b":",
    b"\n",
    b"\r\n",
    b"\t",
    "\u2028".encode(),  # a line separator inside the JSON text
)

# Values of every JSON type, including ones Python's json accepts but JSON does not
# (written as raw text because json.dumps cannot be asked for them directly).
RAW_VALUES: tuple[str, ...] = (
    "null",
    "true",
    "false",
    "0",
    "-0",
    "1",
    "-1",
    "3.0",
    "2.5",
    "1e2",
    "1e400",
    "-1e400",
    "NaN",
    "Infinity",
    "-Infinity",
    "9223372036854775808",
    "9" * 4301,
    '""',
    '" "',
    '"x"',
    '"1"',
    '"\\u0000"',
    '"\\ud800"',
    '"\\udc00x"',
    '"\\ud83d\\ude00"',
    '"2026-01-05T10:00:00Z"',
    '"yes"',
    "[]",
    "[1]",
    '["phone"]',
    "{}",
    '{"a":1}',
    "[" * 900 + "]" * 900,
    '{"a":' * 900 + "1" + "}" * 900,
    "[" * 990 + "]" * 990,
    '{"a":' * 995 + "1" + "}" * 995,
)

# Attribute values a misconfigured publisher might send.
GARBLED_ATTRIBUTES: tuple[str, ...] = (
    "",
    " ",
    "survey ",
    "Survey",
    "SURVEY",
    "agent-note",
    "agent_note\x00",
    "complaint",
    "0",
    "01",
    "1 ",
    " 1",
    "+1",
    "-1",
    "1.0",
    "1_0",
    "\uff11",  # fullwidth one
    "\u0661",  # Arabic-Indic one
    "2",
    "99",
    "9" * 300,
    "9" * 5000,
    "null",
    "\u2028",
    "\ud83d\ude00",
    "2026-01-05T10:00:00Z",
    "garbage",
)

# Event times that datetime.fromisoformat takes but RFC 3339 does not, and the reverse.
ODD_TIMES: tuple[str, ...] = (
    "2026-01-05T10:00:00",
    "2026-01-05",
    "2026-W02-1T10:00:00Z",
    "20260105T100000Z",
    "2026-01-05T10:00+02",
    "2026-01-05T10:00:00Z\x00",
    "2026-01-05T10:00:00.123456789Z",
    "2026-01-05T10:00:00.1234567890123Z",
    "2026-01-05t10:00:00z",
    "2026-01-05 10:00:00+01:00",
    "2026-02-30T10:00:00Z",
    "2026-01-05T24:00:00Z",
    "2026-01-05T10:00:60Z",
    "2026-01-05T10:00:00+24:00",
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-01:00",
    "0000-01-01T00:00:00Z",
    "\u0662\u0660\u0662\u0666-01-05T10:00:00Z",
    "yesterday",
    "",
)

# Free text built to be expensive for redaction and matching, at the maximum length.
_HOSTILE_UNITS = (
    "7 ",
    "7-",
    "4111 ",
    "12 ",
    "(12) ",
    "@a.",
    "a@",
    "GB82 ",
    "call 2019 ",
    "+44 20 7946 0958 ",
    "0",
    "refund ",
)


def _hostile_texts() -> list[str]:
    texts = []
    for unit in _HOSTILE_UNITS:
        texts.append((unit * (MAX_TEXT_CHARS // len(unit) + 1))[:MAX_TEXT_CHARS])
    rng = random.Random(0)
    texts.append("".join(rng.choice("0123456789 -.+()@abGB") for _ in range(MAX_TEXT_CHARS)))
    return texts


class Ingredients:
    """Expensive values built once per run, so a huge input costs its parse, not its build."""

    def __init__(self) -> None:
        self.huge = ("call 020 7946 0958 re order 12345 " * (HUGE_CHARS // 34 + 1))[:HUGE_CHARS]
        self.hostile = _hostile_texts()


# ---------------------------------------------------------------------------
# Mutations
# ---------------------------------------------------------------------------

Mutation = Callable[[random.Random, Sample, Ingredients], bool]


def _random_bytes(rng: random.Random, size: int) -> bytes:
    return rng.getrandbits(8 * size).to_bytes(size, "little") if size else b""


def flip_bits(rng: random.Random, sample: Sample, _: Ingredients) -> bool:
    if not sample.data:
        return False
    data = bytearray(sample.data)
    for _ in range(rng.randint(1, 4)):
        data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    sample.data = bytes(data)
    return True


def truncate(rng: random.Random, sample: Sample, _: Ingredients) -> bool:
    if not sample.data:
        return False
    sample.data = sample.data[: rng.randrange(len(sample.data))]
    return True


def insert_bytes(rng: random.Random, sample: Sample, _: Ingredients) -> bool:
    at = rng.randint(0, len(sample.data))
    junk = (
        rng.choice(SPECIAL_BYTES) if rng.random() < 0.6 else _random_bytes(rng, rng.randint(1, 16))
    )
    sample.data = sample.data[:at] + junk + sample.data[at:]
    return True


def delete_range(rng: random.Random, sample: Sample, _: Ingredients) -> bool:
    if not sample.data:
        return False
    start = rng.randrange(len(sample.data))
    sample.data = sample.data[:start] + sample.data[start + rng.randint(1, 32) :]
    return True


def repeat_range(rng: random.Random, sample: Sample, _: Ingredients) -> bool:
    if not sample.data:
        return False
    start = rng.randrange(len(sample.data))
    piece = sample.data[start : start + rng.randint(1, 64)]
    sample.data = sample.data[:start] + piece * rng.randint(2, 50) + sample.data[start:]
    return True


def replace_with_random_bytes(rng: random.Random, sample: Sample, _: Ingredients) -> bool:
    sample.data = _random_bytes(rng, rng.choice((0, 1, 2, 8, 64, 512, 4096)))
    return True


def _random_json_text(rng: random.Random, depth: int = 0) -> str:
    roll = rng.random()
    if depth > 3 or roll < 0.5:
        return rng.choice(RAW_VALUES)
    if roll < 0.75:
        items = [_random_json_text(rng, depth + 1) for _ in range(rng.randint(0, 4))]
        return "[" + ",".join(items) + "]"
    keys = ["event_id", "csat", "comment", "note", "a", "", "\\ud800", "event_id"]
    members = [
        f"{json.dumps(rng.choice(keys))}:{_random_json_text(rng, depth + 1)}"
        for _ in range(rng.randint(0, 4))
    ]
    return "{" + ",".join(members) + "}"


def replace_with_random_json(rng: random.Random, sample: Sample, _: Ingredients) -> bool:
    sample.data = _random_json_text(rng).encode("utf-8", "surrogatepass")
    return True


def _members(sample: Sample) -> dict[str, Any] | None:
    """The payload as a dict when it still is one, to mutate at the JSON level."""
    try:
        payload = json.loads(sample.data)
    except (ValueError, RecursionError):
        return None
    return payload if isinstance(payload, dict) else None


def set_raw_field(payload: dict[str, Any], key: str, raw_value: str) -> bytes:
    """The payload with ``key`` set to a raw JSON text (which json.dumps could not write)."""
    members = [f"{json.dumps(k)}:{json.dumps(v)}" for k, v in payload.items() if k != key]
    members.append(f"{json.dumps(key)}:{raw_value}")
    return ("{" + ",".join(members) + "}").encode("utf-8", "surrogatepass")


PayloadMutation = Callable[[random.Random, dict[str, Any], Sample, Ingredients], bytes | None]


def _on_payload(allow_empty: bool = False) -> Callable[[PayloadMutation], Mutation]:
    """A mutation of the decoded payload: it gets the payload and returns the new bytes
    (None: nothing to mutate). Messages that are no JSON object are left alone."""

    def wrap(change: PayloadMutation) -> Mutation:
        def mutate(rng: random.Random, sample: Sample, ingredients: Ingredients) -> bool:
            payload = _members(sample)
            if payload is None or (not payload and not allow_empty):
                return False
            try:
                data = change(rng, payload, sample, ingredients)
            except RecursionError:  # nested too deep to write back out; leave it as is
                return False
            if data is None:
                return False
            sample.data = data
            return True

        mutate.__name__ = change.__name__
        mutate.__doc__ = change.__doc__
        return mutate

    return wrap


@_on_payload()
def swap_field_type(rng: random.Random, payload: dict, _s: Sample, _i: Ingredients) -> bytes:
    return set_raw_field(payload, rng.choice(list(payload)), rng.choice(RAW_VALUES))


@_on_payload()
def delete_field(rng: random.Random, payload: dict, _s: Sample, _i: Ingredients) -> bytes:
    del payload[rng.choice(list(payload))]
    return json.dumps(payload).encode()


@_on_payload(allow_empty=True)
def add_field(rng: random.Random, payload: dict, _s: Sample, _i: Ingredients) -> bytes:
    key = rng.choice(("extra", "EVENT_ID", "event_id ", "", "product_area", "\u00e9"))
    return set_raw_field(payload, key, rng.choice(RAW_VALUES))


@_on_payload()
def duplicate_key(rng: random.Random, payload: dict, _s: Sample, _i: Ingredients) -> bytes:
    key = rng.choice(list(payload))
    tail = f",{json.dumps(key)}:{json.dumps(payload[key])}}}".encode()
    return json.dumps(payload).encode()[:-1] + tail


@_on_payload()
def lone_surrogate(rng: random.Random, payload: dict, _s: Sample, _i: Ingredients) -> bytes | None:
    strings = [key for key, value in payload.items() if isinstance(value, str)]
    if not strings:
        return None
    key = rng.choice(strings)
    surrogate = f"\\u{rng.randint(0xD800, 0xDFFF):04x}"
    text = json.dumps(payload[key])
    at = rng.randint(1, len(text) - 1)
    return set_raw_field(payload, key, text[:at] + surrogate + text[at:])


@_on_payload()
def out_of_range_number(rng: random.Random, payload: dict, _s: Sample, _i: Ingredients) -> bytes:
    numbers = [key for key, value in payload.items() if isinstance(value, int | float)]
    key = rng.choice(numbers or list(payload))
    value = rng.choice(("-1", "0", "6", "11", "101", "86401", "1e400", "NaN", "9" * 4301, "2.0"))
    return set_raw_field(payload, key, value)


@_on_payload()
def deep_nesting(rng: random.Random, payload: dict, _s: Sample, _i: Ingredients) -> bytes:
    # Around the parser's recursion limit is where parsing succeeds but explaining fails.
    depth = rng.randint(900, 1000) if rng.random() < 0.5 else rng.choice((10, 500, 5000, 100_000))
    opener, inner, closer = rng.choice((("[", "", "]"), ('{"a":', "1", "}")))
    key = rng.choice(list(payload))
    return set_raw_field(payload, key, opener * depth + inner + closer * depth)


@_on_payload(allow_empty=True)
def garble_time(rng: random.Random, payload: dict, sample: Sample, _i: Ingredients) -> bytes:
    event_type = sample.attributes.get("event_type", "survey")
    payload[EVENT_TIME_FIELD.get(event_type, "submitted_at")] = rng.choice(ODD_TIMES)
    return json.dumps(payload).encode()


@_on_payload()
def huge_value(rng: random.Random, payload: dict, _s: Sample, ingredients: Ingredients) -> bytes:
    payload[rng.choice(list(payload))] = ingredients.huge
    return json.dumps(payload).encode()


@_on_payload(allow_empty=True)
def hostile_text(
    rng: random.Random, payload: dict, sample: Sample, ingredients: Ingredients
) -> bytes:
    """Free text at its maximum length, built to be slow to redact: it still parses."""
    key = TEXT_FIELD.get(sample.attributes.get("event_type", ""), "comment")
    payload[key] = rng.choice(ingredients.hostile)
    return json.dumps(payload).encode()


def delete_attribute(rng: random.Random, sample: Sample, _: Ingredients) -> bool:
    if not sample.attributes:
        return False
    del sample.attributes[rng.choice(sorted(sample.attributes))]
    return True


def garble_attribute(rng: random.Random, sample: Sample, _: Ingredients) -> bool:
    name = rng.choice(("event_type", "schema_version", "event_time"))
    sample.attributes[name] = rng.choice(GARBLED_ATTRIBUTES)
    return True


def swap_event_type(rng: random.Random, sample: Sample, _: Ingredients) -> bool:
    current = sample.attributes.get("event_type")
    sample.attributes["event_type"] = "agent_note" if current == "survey" else "survey"
    return True


# Relative weights: byte-level damage is the most common in the wild, JSON-level
# damage finds the most distinct paths, huge values are costly and kept rare.
MUTATIONS: dict[str, tuple[Mutation, float]] = {
    "flip_bits": (flip_bits, 8),
    "truncate": (truncate, 6),
    "insert_bytes": (insert_bytes, 8),
    "delete_range": (delete_range, 4),
    "repeat_range": (repeat_range, 3),
    "random_bytes": (replace_with_random_bytes, 2),
    "random_json": (replace_with_random_json, 3),
    "swap_field_type": (swap_field_type, 8),
    "delete_field": (delete_field, 4),
    "add_field": (add_field, 3),
    "duplicate_key": (duplicate_key, 3),
    "lone_surrogate": (lone_surrogate, 3),
    "out_of_range_number": (out_of_range_number, 4),
    "deep_nesting": (deep_nesting, 2),
    "garble_time": (garble_time, 4),
    "delete_attribute": (delete_attribute, 3),
    "garble_attribute": (garble_attribute, 5),
    "swap_event_type": (swap_event_type, 2),
}
_NAMES = list(MUTATIONS)
_WEIGHTS = [weight for _, weight in MUTATIONS.values()]


def make_sample(
    rng: random.Random, bases: Sequence[ReceivedMessage], ingredients: Ingredients
) -> Sample:
    """A base message with zero to three mutations (zero keeps the happy path covered)."""
    base = rng.choice(bases)
    sample = Sample(base.data, dict(base.attributes))
    roll = rng.random()
    if roll < HUGE_RATE:
        plan = ["huge_value"]
    elif roll < HUGE_RATE + MAX_TEXT_RATE:
        plan = ["hostile_text"]
    else:
        count = rng.choices((0, 1, 2, 3), weights=(8, 55, 27, 10))[0]
        plan = rng.choices(_NAMES, weights=_WEIGHTS, k=count)
    for name in plan:
        mutate = {"huge_value": huge_value, "hostile_text": hostile_text}.get(name)
        if mutate is None:
            mutate = MUTATIONS[name][0]
        if mutate(rng, sample, ingredients):
            sample.mutations.append(name)
    return sample


# ---------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------


def contract_problem(error: InvalidMessage) -> str | None:
    """Why a rejection breaks the documented contract, or None when it keeps it."""
    if error.reason not in REJECTION_REASONS:
        return f"reason {error.reason!r} is not one of REJECTION_REASONS"
    detail = error.detail
    if not isinstance(detail, str) or not detail.strip():
        return "detail is empty"
    if len(detail) > MAX_ERROR_CHARS:
        return f"detail has {len(detail)} characters (limit {MAX_ERROR_CHARS})"
    if len(detail.splitlines()) != 1:
        return "detail is not one line"
    try:
        detail.encode("utf-8")
    except UnicodeEncodeError:
        return "detail cannot be stored as UTF-8"
    return None


@dataclass
class Failure:
    """The first input that broke something, with enough to reproduce it."""

    kind: str  # "crash" or "contract_violation"
    stage: str
    error: str
    stack: str
    sample: Sample

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "stage": self.stage,
            "error": _clip(self.error, 400),
            "stack": self.stack,
            **self.sample.describe(),
        }


@dataclass
class Summary:
    """What a run found; ``ok`` is what the exit code reports."""

    examples: int
    seed: int
    seconds: float = 0.0
    outcomes: Counter[str] = field(default_factory=Counter)
    mutations: Counter[str] = field(default_factory=Counter)
    crashes: int = 0
    contract_violations: int = 0
    slowest_ms: float = 0.0
    slowest: dict[str, Any] | None = None
    first_failure: Failure | None = None

    @property
    def ok(self) -> bool:
        return self.crashes == 0 and self.contract_violations == 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "examples": self.examples,
            "seed": self.seed,
            "seconds": round(self.seconds, 3),
            "examples_per_second": round(self.examples / self.seconds, 1) if self.seconds else 0,
            "outcomes": dict(self.outcomes.most_common()),
            "mutations": dict(self.mutations.most_common()),
            "crashes": self.crashes,
            "contract_violations": self.contract_violations,
            "slowest_ms": round(self.slowest_ms, 3),
            "slowest": self.slowest,
            "first_failure": self.first_failure.to_dict() if self.first_failure else None,
            "ok": self.ok,
        }


def _short_stack(error: BaseException) -> str:
    return "".join(traceback.format_exception(error, limit=-6))[-3000:]


def run_one(sample: Sample, taxonomy: Taxonomy, summary: Summary) -> str:
    """Parse (and tag, when it parses) one sample, recording what happened; the outcome."""
    message = ReceivedMessage(sample.data, sample.attributes, "", None, None)
    try:
        event = parse_message(message)
    except InvalidMessage as error:
        problem = contract_problem(error)
        if problem is not None:
            summary.contract_violations += 1
            if summary.first_failure is None:
                summary.first_failure = Failure(
                    "contract_violation", "parse", f"{problem}: {error!r}", "", sample
                )
        return error.reason
    except Exception as error:  # anything else would be a dead letter named after a bug
        summary.crashes += 1
        if summary.first_failure is None:
            summary.first_failure = Failure(
                "crash", "parse", f"{type(error).__name__}: {error}", _short_stack(error), sample
            )
        return f"crash:{type(error).__name__}"
    try:
        tag_event(event, taxonomy)
    except Exception as error:
        summary.crashes += 1
        if summary.first_failure is None:
            summary.first_failure = Failure(
                "crash", "tag", f"{type(error).__name__}: {error}", _short_stack(error), sample
            )
        return f"crash:tag:{type(error).__name__}"
    return "parsed"


def base_messages(seed: int, count: int = BASE_MESSAGES) -> list[ReceivedMessage]:
    """Real generated messages, valid and the generator's own malformed ones."""
    generated, _ = generate_events(count, seed=seed, malformed_rate=0.05, duplicate_rate=0.0)
    return [ReceivedMessage(m.data, dict(m.attributes), "", None, None) for m in generated]


def run(examples: int, seed: int) -> Summary:
    rng = random.Random(seed)
    bases = base_messages(seed)
    ingredients = Ingredients()
    taxonomy = shared_taxonomy(None)
    summary = Summary(examples=examples, seed=seed)
    # Loading VADER and compiling each contract happen once per process, on the first
    # message of each kind; done here so that "slowest input" names an input, not them.
    warm_up = Summary(examples=0, seed=seed)
    for base in bases[:50]:
        run_one(Sample(base.data, dict(base.attributes)), taxonomy, warm_up)
        run_one(Sample(base.data[:-1], dict(base.attributes)), taxonomy, warm_up)
    started = time.perf_counter()
    for _ in range(examples):
        sample = make_sample(rng, bases, ingredients)
        summary.mutations.update(sample.mutations or ["none"])
        t0 = time.perf_counter()
        outcome = run_one(sample, taxonomy, summary)
        elapsed_ms = (time.perf_counter() - t0) * 1000
        summary.outcomes[outcome] += 1
        if elapsed_ms > summary.slowest_ms:
            summary.slowest_ms = elapsed_ms
            summary.slowest = {"outcome": outcome, **sample.describe()}
            summary.slowest["data"] = _clip(summary.slowest["data"], 160)
    summary.seconds = time.perf_counter() - started
    return summary


def format_summary(summary: Summary) -> str:
    rate = summary.examples / summary.seconds if summary.seconds else 0.0
    lines = [
        f"fuzz_parser: {summary.examples} examples, seed {summary.seed}, "
        f"{summary.seconds:.1f} s, {rate:,.0f} examples/s",
        "outcomes:",
    ]
    for outcome, count in summary.outcomes.most_common():
        share = 100 * count / summary.examples if summary.examples else 0.0
        lines.append(f"  {outcome:<26} {count:>8}  {share:5.1f}%")
    lines.append(f"crashes: {summary.crashes}")
    lines.append(f"contract violations: {summary.contract_violations}")
    if summary.slowest is not None:
        lines.append(
            f"slowest input: {summary.slowest_ms:.1f} ms "
            f"(mutations: {', '.join(summary.slowest['mutations']) or 'none'}; "
            f"outcome: {summary.slowest['outcome']}; {summary.slowest['data_bytes']} bytes)"
        )
    failure = summary.first_failure
    if failure is not None:
        lines += [
            f"FIRST {failure.kind.upper()} ({failure.stage}): {_clip(failure.error, 400)}",
            f"  mutations: {', '.join(failure.sample.mutations) or 'none'}",
            f"  attributes: {_clip(repr(failure.sample.attributes), 300)}",
            f"  data: {_clip(repr(failure.sample.data))}",
        ]
        if failure.stack:
            lines.append(failure.stack.rstrip())
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=DEFAULT_EXAMPLES)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None, help="also write the summary here")
    args = parser.parse_args(argv)
    if args.examples < 1:
        parser.error("--examples must be at least 1")

    summary = run(args.examples, args.seed)
    print(format_summary(summary))
    if args.json is not None:
        args.json.write_text(json.dumps(summary.to_dict(), indent=2) + "\n", encoding="utf-8")
    return 0 if summary.ok else 1


if __name__ == "__main__":
    sys.exit(main())
