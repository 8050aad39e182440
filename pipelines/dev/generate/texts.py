"""Survey comments and agent notes, composed from the phrase tables of phrases.yaml.

Hand-written fixtures are too uniform to exercise a text pipeline, so each text is
put together from interchangeable parts (cause sentences, asides, openers and
closers by mood or channel, now and then personal data), filled from one
interaction's placeholders, and varied in case, apostrophes and spelling the way
real writers vary them.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

from voc.pipelines.dev.generate.phrases import (
    CAPABILITIES,
    CARDS,
    CARRIERS,
    CLOSERS,
    CUSTOMER_ASIDES,
    CUSTOMER_PHRASES,
    CUSTOMER_PII,
    DEVICES,
    EMAIL_DOMAINS,
    EMAIL_NAMES,
    FEATURES,
    HAPPY_COMMENTS,
    HAPPY_NOTES,
    HOW_TOS,
    NOTE_ASIDES,
    NOTE_CLOSERS,
    NOTE_OPENERS,
    NOTE_PHRASES,
    NOTE_PII,
    NUMBER_WORDS,
    OPENERS,
    PHONES,
    PLANS,
    PRODUCTS,
    TOPICS,
    VAGUE_COMMENTS,
    WEEKDAYS,
)

PII_RATE = 0.03
ASIDE_RATE = 0.3
# How often a survey comment of an unhappy customer names the cause at all; the rest
# say "Not great." or leave the box empty, as real respondents do.
COMMENT_EXPRESSES_PRIMARY = 0.88
COMMENT_EXPRESSES_SECONDARY = 0.5
NOTE_EXPRESSES_SECONDARY = 0.6
# Agents often do not write down a long hold or a transfer chain: it is in the
# telephony numbers (hold_seconds, transfers) the note carries anyway.
NOTE_SIGNAL_ONLY_RATE = 0.3
SIGNAL_CAUSES = frozenset({"long_hold", "transfers"})

# A text and the causes it carries, primary first, and whether it has planted PII.
Text = tuple[str, tuple[str, ...], bool]


class Context(dict[str, str]):
    """Placeholder values for one interaction, drawn only when a template asks.

    Lazy because most templates use two or three of the many placeholders, and
    drawing all of them for every interaction would double the generation time.
    """

    def __init__(self, rng: random.Random, fixed: dict[str, str]) -> None:
        super().__init__(fixed)
        self.rng = rng

    def __missing__(self, key: str) -> str:
        value = FILLERS[key](self.rng)
        self[key] = value
        return value


def _amount(rng: random.Random) -> str:
    currency = rng.choice(("£", "$", "€"))
    return f"{currency}{rng.randint(5, 250)}.{rng.choice(('00', '99', '49', '50'))}"


def _email(rng: random.Random) -> str:
    return f"{rng.choice(EMAIL_NAMES)}{rng.randint(1, 99)}@{rng.choice(EMAIL_DOMAINS)}"


# Placeholders an interaction does not fix itself (see World.interaction).
FILLERS: dict[str, Callable[[random.Random], str]] = {
    "product": lambda rng: rng.choice(PRODUCTS),
    "plan": lambda rng: rng.choice(PLANS),
    "feature": lambda rng: rng.choice(FEATURES),
    "capability": lambda rng: rng.choice(CAPABILITIES),
    "topic": lambda rng: rng.choice(TOPICS),
    "how": lambda rng: rng.choice(HOW_TOS),
    "device": lambda rng: rng.choice(DEVICES),
    "carrier": lambda rng: rng.choice(CARRIERS),
    "weekday": lambda rng: rng.choice(WEEKDAYS),
    "amount": _amount,
    "amount2": _amount,
    "order": lambda rng: f"#{rng.choice('ABCDEFGH')}-{rng.randint(100000, 999999)}",
    "version": lambda rng: f"{rng.randint(2, 6)}.{rng.randint(0, 12)}.{rng.randint(0, 9)}",
    "code": lambda rng: f"E{rng.randint(100, 999)}",
    "ticket": lambda rng: f"JIRA-{rng.randint(1000, 9999)}",
    "kb": lambda rng: f"KB-{rng.randint(100, 4999)}",
    "rma": lambda rng: f"RMA{rng.randint(10000, 99999)}",
    "days": lambda rng: str(rng.randint(3, 12)),
    "date": lambda rng: f"{rng.randint(1, 28)} {rng.choice(('Dec', 'Jan'))}",
    "contacts_word": lambda rng: rng.choice(NUMBER_WORDS),
    "phone": lambda rng: rng.choice(PHONES),
    "email": _email,
    "card": lambda rng: rng.choice(CARDS),
}


def survey_comment(
    rng: random.Random, causes: Sequence[str], sentiment: str, context: Context
) -> Text:
    if not causes:
        if rng.random() < 0.15:
            return "", (), False
        return _happy(rng, context, customer=True)

    expressed: list[str] = []
    sentences: list[str] = []
    if rng.random() < COMMENT_EXPRESSES_PRIMARY:
        expressed.append(causes[0])
        sentences.append(rng.choice(CUSTOMER_PHRASES[causes[0]]).format_map(context))
    if len(causes) > 1 and rng.random() < COMMENT_EXPRESSES_SECONDARY:
        expressed.append(causes[1])
        sentences.append(rng.choice(CUSTOMER_PHRASES[causes[1]]).format_map(context))
    if not sentences:
        if rng.random() < 0.4:
            return "", (), False
        return rng.choice(VAGUE_COMMENTS), (), False

    opener = _typo(rng, rng.choice(OPENERS[sentiment]))
    closer = _typo(rng, rng.choice(CLOSERS[sentiment]).format_map(context))
    if sentiment == "angry" and opener and rng.random() < 0.2:
        opener = opener.upper()
    if rng.random() < ASIDE_RATE:
        sentences.insert(rng.randint(1, len(sentences)), rng.choice(CUSTOMER_ASIDES))
    body = " ".join(sentences).format_map(context)
    if opener.endswith((",", "but", "though")) and not body.startswith(("I ", "I'")):
        body = body[0].lower() + body[1:]
    text = " ".join(part for part in (opener, body, closer) if part)
    return _finish(rng, text, tuple(expressed), context, customer=True)


def agent_note(rng: random.Random, causes: Sequence[str], channel: str, context: Context) -> Text:
    if not causes:
        return _happy(rng, context, customer=False)
    sentences: list[str] = []
    carried: list[str] = []
    for position, cause in enumerate(causes):
        signal_only = cause in SIGNAL_CAUSES and rng.random() < NOTE_SIGNAL_ONLY_RATE
        written = not signal_only and (position == 0 or rng.random() < NOTE_EXPRESSES_SECONDARY)
        if written:
            sentences.append(rng.choice(NOTE_PHRASES[cause]).format_map(context))
        if written or cause in SIGNAL_CAUSES:
            carried.append(cause)
    if not sentences:
        sentences.append(rng.choice(HAPPY_NOTES).format_map(context))
    if rng.random() < ASIDE_RATE:
        sentences.append(rng.choice(NOTE_ASIDES).format_map(context))
    parts = [rng.choice(NOTE_OPENERS[channel]), *sentences, rng.choice(NOTE_CLOSERS)]
    text = " ".join(part for part in parts if part)
    return _finish(rng, text, tuple(carried), context, customer=False)


def _happy(rng: random.Random, context: Context, customer: bool) -> Text:
    text = rng.choice(HAPPY_COMMENTS if customer else HAPPY_NOTES).format_map(context)
    if rng.random() < ASIDE_RATE:
        asides = CUSTOMER_ASIDES if customer else NOTE_ASIDES
        text = f"{text} {rng.choice(asides).format_map(context)}"
    return _finish(rng, text, (), context, customer)


def _finish(
    rng: random.Random, text: str, causes: tuple[str, ...], context: Context, customer: bool
) -> Text:
    """Plant personal data in a few texts, then restyle: redaction must cope with both."""
    pii = rng.random() < PII_RATE
    if pii:
        sentence = rng.choice(CUSTOMER_PII if customer else NOTE_PII).format_map(context)
        if rng.random() < 0.5:
            text = f"{text} {sentence}"
        else:
            text = f"{sentence} {text}" if sentence.endswith(".") else f"{sentence}. {text}"
    return _restyle(rng, text, customer), causes, pii


def _typo(rng: random.Random, text: str) -> str:
    """Swap two letters inside one longer word, as fast typing does (about 1 text in 10).

    Applied only to openers and closers so cause phrases stay recognisable; the
    matcher's recall is measured on what customers mean, not on spelling luck.
    """
    if not text or rng.random() >= 0.1:
        return text
    words = text.split(" ")
    candidates = [i for i, word in enumerate(words) if len(word) >= 5 and word.isalpha()]
    if not candidates:
        return text
    i = rng.choice(candidates)
    word = words[i]
    j = rng.randrange(1, len(word) - 2)
    words[i] = word[:j] + word[j + 1] + word[j] + word[j + 2 :]
    return " ".join(words)


def _restyle(rng: random.Random, text: str, customer: bool) -> str:
    """Vary surface style the way real writers do: case, apostrophes, spacing."""
    roll = rng.random()
    if customer:
        if roll < 0.08:
            text = text.lower()
        elif roll < 0.14:
            text = text.replace("'", "")
        elif roll < 0.24:
            text = text.replace("'", "\u2019")  # phone keyboards
    elif roll < 0.3:
        text = text.lower()
    elif roll < 0.36:
        text = text.replace("'", "")
    return text
