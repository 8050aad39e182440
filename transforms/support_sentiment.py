"""Support-language sentiment: VADER's valences read the way customer service reads them.

VADER was built on general social-media text. On feedback to a company it fails in
ways that have one cause each, so each has one rule here, working on VADER's own
per-word valences (voc.transforms.vader_scorer) before they are summed:

* **A complaint stated as a fact has no feeling words.** "On hold 45 minutes and
  transferred three times" is 0.000 to VADER. Friction facts count as negative: a
  wait or delay long enough to mention, an action repeated ("third time", "again",
  "still"), an expected outcome negated ("never arrived", "nobody called back"),
  and words whose root means friction (disconnect, delay, cancel, queue, ...).
* **Requests and courtesy are not praise.** "please", "kindly", "help", "thanks in
  advance" carry no valence inside a request or a question, and "thanks" inside or
  after a complaint is a formula (or sarcasm), not a compliment.
* **A question about a possible problem is not a problem** ("will my order be
  delayed?"); a question about one that happened still is ("why was I charged twice?").
* **Sarcasm**: praise aimed at friction ("great, another outage", "love waiting on
  hold") is a complaint.
* **One polite sentence must not average a complaint away.** Each sentence is scored
  on its own; sentences combine with more weight on the opinionated, on the
  negative (customers bury complaints in politeness, rarely the reverse) and on
  what follows a contrast ("but", "however", "although" within a sentence too).
* Hashtags are split into words and scored (VADER skips "#fail"); emoji are read
  by their names (the emoji table shipped with the vaderSentiment package).

Every rule works on word roots or VADER's own lexicon, not on listed sentences, so
it applies to phrasings nobody wrote down. The pure functions here take a prepared
scorer and the text's tokens; voc.transforms.score_sentiment builds those once.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from typing import NamedTuple, Protocol

from voc.transforms.feedback_tokens import Token, root_of
from voc.transforms.friction_facts import (
    FRICTION_ROOTS,
    LOYALTY_ROOTS,
    PROMISE_ROOTS,
    REMEDY_ROOTS,
    WAIT_ROOTS,
    friction_facts,
    root_set,
    word_set,
)
from voc.transforms.numeric_evidence import Quantity
from voc.transforms.records import SENTIMENT_LABELS

__all__ = [
    "LABELS",
    "SentenceSentiment",
    "SentimentReading",
    "class_probabilities",
    "read_sentiment",
]

LABELS = SENTIMENT_LABELS

# The label's neutral band on the combined score, and how sharply the class
# probabilities turn around it (see class_probabilities).
NEUTRAL_BAND = 0.05
PROBABILITY_SLOPE = 6.0

# One friction fact is worth about VADER's "problem" (-1.7); more than three in one
# sentence add nothing (the sentence is already a complaint).
FRICTION_VALENCE = -1.6
MAX_FRICTION_FACTS = 3
# Sentence weights: an opinionated sentence counts more than a flat one; a negative
# one more than a positive one of the same strength; after a contrast, more.
NEGATIVE_WEIGHT = 1.5
CONTRAST_AFTER = 1.5
CONTRAST_BEFORE = 0.5
LAST_SENTENCE_WEIGHT = 1.3


# Courtesy and request words: their VADER valence is a formula, not an opinion,
# inside a request, a question or a complaint.
COURTESY_WORDS = word_set(
    "please pls plz kindly help thanks thank thx ty appreciate appreciated hope hoping "
    "chance ok okay yes sure welcome like dear grateful advance"
)
# A sentence is a request when it holds one of these, or opens like one.
REQUEST_MARKERS = word_set("please pls plz kindly")
# Verbs that ask, in the present: "cust wants refund", "requesting a callback".
REQUEST_VERBS = word_set(
    "want wants request requests requesting demand demands demanding need needs"
)
_REQUEST_OPENERS = (
    ("can", "you"),
    ("could", "you"),
    ("would", "you"),
    ("will", "you"),
    ("can", "someone"),
    ("could", "someone"),
    ("can", "i"),
    ("could", "i"),
    ("i", "need"),
    ("i", "want"),
    ("we", "need"),
    ("i", "would"),
    ("id", "like"),
    ("let", "me"),
    ("need", "to"),
    ("need", "help"),
    ("send", "me"),
    ("help", "me"),
)
# A question opening with one of these asks about what may happen, not what did.
HYPOTHETICAL_OPENERS = word_set(
    "will would can could should shall may might is are do does am if how when what which "
    "who where any is there"
)
# Words that open a message without being part of its question or request.
GREETINGS = word_set("hi hello hey dear morning afternoon evening good team support thanks")
# ... unless it says the thing already happened.
HAPPENED_WORDS = word_set(
    "was were did didnt has hasnt have havent had hadnt got still yet why already been"
)
# "like" is an opinion only after a subject or an adverb that makes it a verb:
# "I like", "really liked"; "feels like", "like 3 hours", "looks like" are not.
# (Read from the sentence: VADER drops one-letter words such as "I".)
_LIKE_VERB = re.compile(
    r"\b(?:i|we|you|they|he|she|really|do|did|not|don'?t|didn'?t|also|definitely|always)"
    r"\s+(?:really\s+)?lik(?:e|ed)\b",
    re.IGNORECASE,
)
# Modal verbs of wish or duty, and the verbs that make them counterfactual.
_MODALS = word_set("would could should might wish wished shouldve couldve wouldve")
_MODAL_VERBS = word_set("be have been love like appreciate prefer help use do make expect")
COMPARATIVES = word_set(
    "better easier faster quicker clearer cheaper nicer simpler smoother more improved"
)
# Written marks of irony: every positive word of the text reads as its opposite.
IRONY_MARKERS = ("\U0001f643", "\U0001f644", "\U0001f612", "/s ", "said no one ever")
# VADER's own factor for a negated word.
NEGATION_SCALAR = -0.74
# After "don't": reassurance ("don't worry") or a verb of state, which has no
# imperative: "(I) don't want to lose anything", "don't know if it's shipped".
_NOT_WARNINGS = word_set(
    "worry hesitate panic stress mind want need know think have see get understand like "
    "remember care recall"
)
_NUMBER_WORDS = dict.fromkeys(["zero", "no", "0"], 0.0) | {
    word: float(value)
    for value, names in enumerate(["", "one 1", "two 2", "three 3", "four 4", "five 5"])
    for word in names.split()
}
_RATING = re.compile(
    r"\b(\d+(?:\.\d+)?)\s*(?:/|out\s+of\s+)(5|10)\b"
    r"|\b(zero|no|one|two|three|four|five|[0-5])[\s-]*stars?\b",
    re.IGNORECASE,
)
# Sentences made only of these characters hold no emoticon, emoji, hashtag or
# punctuation run for prepare() to rewrite.
_PLAIN_SENTENCE = re.compile(r"[A-Za-z0-9 .,'\"()\n-]*[.!?]?\s*")
# A valence this strong survives inside a question ("will this awful app ever work?").
STRONG_VALENCE = 2.5
# Sarcasm: a sentence-opening exclamation of praise followed by friction.
_PRAISE_VERBS = root_set("love loved enjoy enjoyed adore like liked appreciate")
CONTRAST_WORDS = word_set("but however yet though although unfortunately")


class SentenceSentiment(NamedTuple):
    """One sentence's score; ``start``/``end`` are offsets in the scored text.
    (Named tuples here: several are made for every text scored.)"""

    start: int
    end: int
    compound: float
    weight: float


class SentimentReading(NamedTuple):
    """A text's sentiment with the sentences it came from."""

    compound: float
    label: str
    confidence: float
    probabilities: tuple[float, float, float]  # LABELS order
    sentences: tuple[SentenceSentiment, ...]

    def sentence_compound(self, offset: int) -> float | None:
        """The score of the sentence holding character ``offset`` (a cause's evidence)."""
        if offset < 0:
            return None
        for sentence in self.sentences:
            if sentence.start <= offset < sentence.end:
                return sentence.compound
        return self.sentences[-1].compound if self.sentences else None


class VaderValences(Protocol):
    """What the layer needs from the VADER engine (voc.transforms.vader_scorer, with
    the domain lexicon: score_sentiment's shared analyzers)."""

    lexicon: dict[str, float]
    phrase_anchors: frozenset[str]  # a word of each domain phrase, as tokens spell it

    def valences(self, text: str) -> tuple[list[str], list[float]]: ...

    def scores_of(self, valences: Sequence[float], text: str) -> dict[str, float]: ...


def class_probabilities(compound: float) -> tuple[float, float, float]:
    """(negative, neutral, positive) from a compound score: a softmax whose class
    boundaries are the neutral band, so the most likely class is always the label.

    Used as the lexicon's vote when it is blended with a learned model, and for the
    confidence stored next to every label.
    """
    positive = PROBABILITY_SLOPE * (compound - NEUTRAL_BAND)
    negative = PROBABILITY_SLOPE * (-compound - NEUTRAL_BAND)
    top = max(positive, negative, 0.0)
    exp_neg, exp_neu, exp_pos = (
        math.exp(negative - top),
        math.exp(-top),
        math.exp(positive - top),
    )
    total = exp_neg + exp_neu + exp_pos
    return exp_neg / total, exp_neu / total, exp_pos / total


def label_of(probabilities: Sequence[float]) -> str:
    negative, neutral, positive = probabilities
    if negative > neutral and negative >= positive:
        return "negative"
    return "positive" if positive > neutral else "neutral"


def read_sentiment(
    text: str,
    tokens: Sequence[Token],
    engine: VaderValences,
    prepare: Callable[[str, Sequence[Token]], str],
    quantities: list[Quantity] | None = None,
) -> SentimentReading:
    """Score ``text`` sentence by sentence and combine (see the module docstring).

    ``tokens`` are the text's feedback tokens (the same ones cause matching uses,
    so the text is tokenized once); ``prepare`` rewrites a sentence for VADER
    (hashtags, emoji, domain phrases).
    """
    lexicon = engine.lexicon
    anchors = engine.phrase_anchors
    tokens = list(tokens)
    frictions, remedied = friction_facts(tokens, lexicon, quantities)
    ironic = not text.isascii() and any(marker in text for marker in IRONY_MARKERS)
    scored: list[tuple[int, int, float, float, bool]] = []
    for number, start, end, first, last in _sentence_spans(text, tokens):
        sentence = text[start:end]
        sentence_tokens = tokens[first:last]
        if _PLAIN_SENTENCE.fullmatch(sentence) and not any(
            token.word in lexicon or token.word in anchors for token in sentence_tokens
        ):
            # No lexicon word, no phrase, nothing prepare() rewrites: VADER reads no
            # valence here, so skip it.
            prepared, words, valences = sentence, [], []
        else:
            prepared = prepare(sentence, sentence_tokens)
            words, valences = engine.valences(prepared)
        kind = _sentence_kind(_without_mentions(sentence_tokens, text), sentence)
        facts = frictions.get(number, 0)
        if kind == "request" and any(token.root in REMEDY_ROOTS for token in sentence_tokens):
            facts += 1  # "please refund the fee", "I need this corrected"
        if kind == "hypothetical":
            facts = 0
        facts = min(facts, MAX_FRICTION_FACTS)
        if _is_warning(sentence_tokens):
            valences = [-abs(value) for value in valences]  # "don't waste your money"
            facts = max(facts, 1)
        formula = False
        if any(valences):
            lowered = [_plain(word) for word in words]
            valences, formula = _adjust(lowered, valences, kind, facts, sentence)
            _read_absence(lowered, valences, lexicon)
            if kind == "statement" and remedied:
                _forgive_remedied(lowered, valences, sentence_tokens, remedied)
            _apply_modality(lowered, valences, sentence_tokens)
            if ironic or (facts and _is_sarcastic(sentence_tokens, lexicon)):
                valences = [-0.5 * value if value > 0 else value for value in valences]
        else:
            valences = list(valences)
        valences.extend([FRICTION_VALENCE] * facts)
        rating = _rating_valence(sentence)
        if rating is not None:
            valences.append(rating)
        compound = engine.scores_of(valences, prepared)["compound"] if any(valences) else 0.0
        opens_contrast = bool(words) and words[0].lower() in CONTRAST_WORDS
        scored.append((start, end, compound, 1.0 if opens_contrast else 0.0, formula))
    return _combine(scored)


# ------------------------------------------------------------------- sentences


def _sentence_spans(text: str, tokens: list[Token]) -> list[tuple[int, int, int, int, int]]:
    """(sentence number, start, end, first token, end token) covering the whole text: a
    sentence runs from its first token to the next sentence's first token, so its
    closing "!!!" and any emoji after it belong to it."""
    if not tokens:
        return [(0, 0, len(text), 0, 0)]
    starts: list[tuple[int, int, int]] = []  # (sentence, character, token index)
    current = -1
    for index, token in enumerate(tokens):
        if token.sentence != current:
            current = token.sentence
            starts.append((current, token.start, index))
    spans = []
    for position, (number, start, first) in enumerate(starts):
        if position + 1 < len(starts):
            _, end, last = starts[position + 1]
        else:
            end, last = len(text), len(tokens)
        spans.append((number, 0 if position == 0 else start, end, first, last))
    return spans


def _without_mentions(tokens: list[Token], text: str) -> list[Token]:
    """The tokens without @mentions ("@ShopHelp are you open?" opens with "are")."""
    if "@" not in text:
        return tokens
    return [token for token in tokens if not (token.start and text[token.start - 1] == "@")]


def _sentence_kind(tokens: Sequence[Token], sentence: str) -> str:
    """ "request", "hypothetical" (a question about what may happen), or "statement".

    A question's opener is the first word of its last clause ("I have a gift card,
    is it still valid?"); customers often drop the "?" of a request but rarely of a
    question, so questions need one.
    """
    tokens = [token for token in tokens if token.word not in GREETINGS]
    if not tokens:
        return "statement"
    words = [token.word for token in tokens]
    present = set(words)
    if "?" in sentence:
        last_clause = tokens[-1].clause
        opener = next(token.word for token in tokens if token.clause == last_clause)
        if (opener in HYPOTHETICAL_OPENERS or words[0] in HYPOTHETICAL_OPENERS) and not (
            HAPPENED_WORDS & present
        ):
            return "hypothetical"
    if REQUEST_MARKERS & present or REQUEST_VERBS & present:
        return "request"
    if "would" in present and "like" in present:
        return "request"  # "customer would like a refund"
    if len(words) > 1 and (words[0], words[1]) in _REQUEST_OPENERS:
        return "request"
    return "statement"


def _plain(word: str) -> str:
    return word.lower().replace("'", "").strip('.,!?;:"()')


def _adjust(
    lowered: Sequence[str],
    valences: Sequence[float],
    kind: str,
    facts: int,
    sentence: str,
) -> tuple[list[float], bool]:
    """The sentence's valences after the courtesy, "like" and question rules, and
    whether the sentence is courtesy only ("Thanks a lot.", "Thank you!")."""
    adjusted = list(valences)
    complaint = facts > 0 or any(value < -0.5 for value in valences)
    courtesy_seen = False
    opinion_seen = False
    for index, word in enumerate(lowered):
        value = adjusted[index]
        if not value:
            continue
        if word in COURTESY_WORDS and word != "like":
            courtesy_seen = True
            if kind != "statement" or complaint:
                adjusted[index] = 0.0
            continue
        if word == "like":
            if kind != "request" and _LIKE_VERB.search(sentence) is not None:
                opinion_seen = True
            else:
                adjusted[index] = 0.0
            continue
        if facts and value > 0 and root_of(word) in PROMISE_ROOTS:
            adjusted[index] = 0.0  # "was promised a callback": a broken promise
            continue
        if kind == "hypothetical" and abs(value) < STRONG_VALENCE:
            adjusted[index] = 0.0  # "will it be delayed?", "is delivery free?" ask, not judge
            continue
        opinion_seen = True
    return adjusted, courtesy_seen and not opinion_seen and not facts and not complaint


def _forgive_remedied(
    lowered: Sequence[str], valences: list[float], tokens: Sequence[Token], remedied: set[int]
) -> None:
    """Negative words in a clause that reports their remedy ("fixed the leak") are the
    story of a good outcome, not a complaint (friction_facts skips those clauses too)."""
    fixed_words = {token.word for token in tokens if token.clause in remedied}
    for index, word in enumerate(lowered):
        if valences[index] < 0 and word in fixed_words:
            valences[index] = 0.0


def _apply_modality(lowered: Sequence[str], valences: list[float], tokens: Sequence[Token]) -> None:
    """Praise that did not happen is not praise.

    * After a modal of wish or duty ("would be nice", "could be better", "should
      be easier", "I wish"), a comparative asks for improvement: a mild complaint;
      other praise is a wish: neutral; but loyalty stays ("would recommend", "would
      order again").
    * After "used to" praise is in the past: "you used to be good" is a complaint.
    """
    for index, word in enumerate(lowered):
        if word in _MODALS and (word == "wish" or _next(lowered, index) in _MODAL_VERBS):
            loyal = any(token.root in LOYALTY_ROOTS for token in tokens)
            for later in range(index + 1, len(lowered)):
                value = valences[later]
                if value <= 0:
                    continue
                if lowered[later] in COMPARATIVES:
                    valences[later] = -0.5 * value
                elif not loyal:
                    valences[later] = 0.0
            return
        if word == "used" and _next(lowered, index) == "to":
            for later in range(index + 2, len(lowered)):
                if valences[later] > 0:
                    valences[later] = -0.5 * valences[later]
            return


def _is_warning(tokens: Sequence[Token]) -> bool:
    """A negated imperative warns others off: "Don't waste your money", "do not buy".

    VADER reads "don't waste" as a negated negative, i.e. praise; here every word of
    the sentence counts against. "Don't worry" and "don't hesitate" reassure.
    """
    start = 1 if tokens and tokens[0].word in ("so", "just", "please", "seriously") else 0
    if len(tokens) < start + 3:
        return False
    first, second, verb = tokens[start : start + 3]
    return first.word == "do" and second.word == "not" and verb.word not in _NOT_WARNINGS


def _rating_valence(sentence: str) -> float | None:
    """A rating written in the text ("1 star", "zero stars", "10/10", "2 out of 5")
    as a valence on VADER's scale: the bottom of the scale -3, the top +3."""
    lowered = sentence.lower()
    if "star" not in lowered and "/" not in lowered and " of " not in lowered:
        return None  # no rating can be there; most sentences
    found = _RATING.search(sentence)
    if found is None:
        return None
    value, scale, stars = found.group(1), found.group(2), found.group(3)
    if stars is not None:
        number = _NUMBER_WORDS.get(stars.lower())
        top = 5.0
        if number is None:
            return None
    else:
        number, top = float(value), float(scale)
        if number > top:
            return None
    return round(6.0 * (number / top - 0.5), 2)


def _read_absence(lowered: Sequence[str], valences: list[float], lexicon: dict[str, float]) -> None:
    """ "no" before a word is a determiner, not an opinion: "no complaints", "no fee",
    "no longer used", "no good".

    NLTK's VADER scores "no" itself (-1.2) and, because "no" is in its lexicon, never
    lets it negate the next word, so "no complaints" reads as two complaints and "no
    good" as praise. Here "no" scores nothing and negates the word after it as
    VADER's own negation would; a denied trouble is mildly good. What "no" denies
    that was expected ("no response", "no refund") friction_facts counts.
    """
    for index in range(len(lowered) - 1):
        if lowered[index] not in ("no", "zero") or valences[index] >= 0:
            continue
        valences[index] = 0.0
        value = valences[index + 1]
        if value < 0:
            valences[index + 1] = 0.5 * -value
        elif value > 0:
            valences[index + 1] = NEGATION_SCALAR * value


def _next(words: Sequence[str], index: int) -> str:
    return words[index + 1] if index + 1 < len(words) else ""


def _is_sarcastic(tokens: Sequence[Token], lexicon: dict[str, float]) -> bool:
    """Praise aimed at friction in the same sentence reads as its opposite.

    Two shapes: a sentence opened by a word of praise standing alone ("Great, another
    outage", "Perfect!! 3 hours on hold", "Wonderful another delay"), and a praise
    verb governing friction ("love waiting", "enjoyed being on hold"). Other praise
    next to friction is left alone: "great agent, but waited 40 minutes" is mixed.
    Only called for sentences that state friction.
    """
    if not tokens:
        return False
    first = tokens[0]
    if lexicon.get(first.word, 0.0) > 0 and (
        len(tokens) == 1 or tokens[1].clause != first.clause or tokens[1].word == "another"
    ):
        return True
    for position, token in enumerate(tokens[:-1]):
        if token.root in _PRAISE_VERBS:
            if tokens[position + 1].word in ("how", "that", "when"):
                return True  # "love how the price goes up again"
            for other in tokens[position + 1 : position + 4]:
                if other.root in FRICTION_ROOTS or other.root in WAIT_ROOTS:
                    return True
    return False


# ------------------------------------------------------------------- combining


def _combine(scored: list[tuple[int, int, float, float, bool]]) -> SentimentReading:
    """Weighted mean of sentence scores (weights: the module docstring)."""
    if len(scored) == 1:
        compound = scored[0][2]
        weights = [1.0]
    else:
        any_negative = False
        contrast_after = -1  # the last sentence opening with a contrast
        for position, item in enumerate(scored):
            any_negative = any_negative or item[2] <= -NEUTRAL_BAND
            if item[3]:
                contrast_after = position
        weights = []
        last = len(scored) - 1
        total = weighted = 0.0
        for position, (_, _, value, opens_contrast, courtesy_only) in enumerate(scored):
            weight = 0.5 + abs(value)
            if value < 0:
                weight *= NEGATIVE_WEIGHT
            if courtesy_only and any_negative:
                weight = 0.0  # "Thanks a lot." after a complaint
            if opens_contrast:
                weight *= CONTRAST_AFTER
            if position < contrast_after:
                weight *= CONTRAST_BEFORE
            if position == last:
                weight *= LAST_SENTENCE_WEIGHT  # the verdict usually comes last
            weights.append(weight)
            total += weight
            weighted += weight * value
        compound = weighted / total if total else 0.0
    probabilities = class_probabilities(compound)
    sentences = tuple(
        SentenceSentiment(item[0], item[1], item[2], weight)
        for item, weight in zip(scored, weights, strict=True)
    )
    return SentimentReading(
        round(compound, 4),
        label_of(probabilities),
        round(max(probabilities), 4),
        probabilities,
        sentences,
    )
