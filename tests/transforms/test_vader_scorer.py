"""VaderScorer must give NLTK's VADER scores exactly, on generated and on real texts."""

from __future__ import annotations

import json
import random
import string
from pathlib import Path
from typing import Any

import pytest
from nltk.sentiment.vader import SentimentIntensityAnalyzer, SentiText, VaderConstants

from voc.transforms import vader_scorer
from voc.transforms.score_sentiment import LEXICON_RESOURCE, ensure_vader_lexicon
from voc.transforms.vader_scorer import VaderScorer

CAUSES_DIR = Path(__file__).resolve().parents[1] / "data" / "causes"
GENERATED = 6000
OVERLAY_GENERATED = 2000

# Overlaid entries chosen to reach paths VADER's own lexicon never takes: a lexicon
# "least", "never" and "so", a zero valence, a capitalised key (never matched), and the
# last words of idioms NLTK cannot otherwise reach.
OVERLAY = {
    "onhold": -2.1,
    "least": 0.8,
    "never": -0.6,
    "so": 0.4,
    "meh": 0.0,
    "Refund": 1.0,
    "mustard": 1.1,
    "mouth": -0.7,
    "right": 0.9,
    "but": -0.3,
}

FILLER = [
    *("the", "a", "I", "it", "is", "was", "my", "app", "service", "agent", "call", "bill"),
    *("card", "this", "that", "to", "of", "at", "and", "very", "least", "kind", "sort"),
    *("just", "enough", "so", "never", "without", "doubt", "but", "BUT", "But", "hold", "on"),
]
PHRASES = [
    "kind of",
    "sort of",
    "just enough",
    "at least",
    "very least",
    "the least",
    "never so",
    "never this",
    "Never so",
    "without doubt",
    "the shit",
    "the bomb",
    "bad ass",
    "yeah right",
    "kiss of death",
    "cut the mustard",
    "hand to mouth",
    "but",
    "not bad",
    "isn't good",
    "don't, like",
]
ODDITIES = [
    *("5", "42", "3.14", "100%", "#outage", "@TaskFlowHQ", "http://x.io/?a=1"),
    *(":)", ":(", ":D", ":-)", "<3", "</3", "xD", ";)", "\U0001f600", "\U0001f621"),
    *("\U0001f44d\U0001f3fd", "caf\u00e9", "na\u00efve", "\u03a3\u039f\u03a6\u039f\u03a3"),
    *("\u0130stanbul", "stra\u00dfe", "\u2026", "\u2014", "\u201cgreat\u201d"),
    *("\u2018bad\u2019", "isn\u2019t", "ok.", "a.", "I,", "!!", "!!!", "??", "???"),
    *("?!?", "!?!", "?!?!", "!?!?", "!", "?", "-", "--", "'", '"'),
]
# Fixed texts for rules a random mix reaches rarely: the first positions, where NLTK's
# look-back loops are cut short, and exact spellings its rules compare case-sensitively.
EDGE_CASES = [
    *("", " ", "\t\n ", "\u00a0", "!", "??", "a", "I", ":)", "but", "BUT good", "least"),
    *("least good", "Least bad", "at least good", "very least nice", "the least good"),
    *("the not meh", "not the meh", "VERY meh ok", "never so good", "Never so good"),
    *("I never this bad", "so so good", "kind of good", "KIND of bad", "it kind of sucks"),
    *("it's sort of the shit", "you are the bomb!!", "bad ass", "so bad ass", "yeah right"),
    *("oh yeah right", "the kiss of death", "good good GOOD but bad bad", "GOOD but BAD"),
    *("least good at", "least nice very", "so bad at least"),
    *("not good, not bad", "isn't good", "don't, like it", "good!!!! ok", "good?! ok"),
]
SPACES = [" ", " ", " ", " ", "  ", "\t", "\n", "\u00a0", "\u2003 "]
AFFIXES = VaderConstants.PUNC_LIST + list(string.punctuation) + ["!!!!", "?!", "...", "(", ")"]


def _token(rng: random.Random, pools: list[list[str]]) -> str:
    pool = rng.choice(pools)
    word = rng.choice(pool)
    roll = rng.random()
    if roll < 0.12:
        word = word.upper()
    elif roll < 0.18:
        word = word.capitalize()
    roll = rng.random()
    if roll < 0.12:
        word += rng.choice(AFFIXES)
    elif roll < 0.18:
        word = rng.choice(AFFIXES) + word
    elif roll < 0.20:
        word = rng.choice(AFFIXES) + word + rng.choice(AFFIXES)
    return word


def generate_texts(seed: int, count: int, extra_words: list[str] | None = None) -> list[str]:
    """Seeded texts mixing NLTK's lexicon, boosters, negations and VADER's special cases."""
    rng = random.Random(seed)
    lexicon_words = sorted(_analyzer().lexicon)
    negations = [*sorted(VaderConstants.NEGATE), "shouldn't've", "DOESN'T", "can't,"]
    boosters = sorted(VaderConstants.BOOSTER_DICT)
    pools = [lexicon_words, lexicon_words, negations, boosters, FILLER, FILLER, PHRASES]
    pools.append(ODDITIES)
    if extra_words:
        pools.append(extra_words)
    texts = [*EDGE_CASES]
    while len(texts) < count:
        parts = [_token(rng, pools) for _ in range(rng.randint(1, 22))]
        text = "".join(part + rng.choice(SPACES) for part in parts).rstrip()
        roll = rng.random()
        if roll < 0.05:
            text = text.upper()
        elif roll < 0.25:
            text += rng.choice(["!", "!!", "!!!!!", "?", "??", "????", "?!", " !", " ??"])
        texts.append(text)
    return texts


def _real_texts() -> list[str]:
    texts = []
    for pattern in ("*.tune.jsonl", "*.extra.jsonl"):
        for path in sorted(CAUSES_DIR.glob(pattern)):
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    texts.append(json.loads(line)["text"])
    return texts


_ANALYZER: list[Any] = []


def _analyzer() -> Any:
    """NLTK's analyzer built the way voc builds it; parsed once for the module."""
    if not _ANALYZER:
        ensure_vader_lexicon()
        _ANALYZER.append(SentimentIntensityAnalyzer(lexicon_file=LEXICON_RESOURCE))
    return _ANALYZER[0]


def _overlaid_analyzer() -> Any:
    base = _analyzer()
    overlaid = SentimentIntensityAnalyzer.__new__(SentimentIntensityAnalyzer)
    overlaid.__dict__.update(base.__dict__)
    overlaid.lexicon = {**base.lexicon, **OVERLAY}
    return overlaid


def _nltk_sentiments(analyzer: Any, text: str) -> list[float]:
    """The list NLTK passes to score_valence for ``text``, captured on the way."""
    seen: list[list[float]] = []
    score_valence = analyzer.score_valence

    def capture(sentiments: list[float], text: str) -> dict[str, float]:
        seen.append(list(sentiments))
        return score_valence(sentiments, text)

    analyzer.score_valence = capture
    try:
        analyzer.polarity_scores(text)
    finally:
        del analyzer.score_valence
    return seen[0]


def _bits(values: Any) -> list[tuple[Any, str, str]]:
    """Bit-for-bit view of a score dict or valence list: keys in order, types, exact reprs.

    ``==`` alone would accept 0 for 0.0 and 0.0 for -0.0.
    """
    items = values.items() if isinstance(values, dict) else enumerate(values)
    return [(key, type(value).__name__, repr(value)) for key, value in items]


def _mismatches(analyzer: Any, scorer: VaderScorer, texts: list[str]) -> list[str]:
    return [
        t for t in texts if _bits(scorer.polarity_scores(t)) != _bits(analyzer.polarity_scores(t))
    ]


def test_tables_are_nltks() -> None:
    nltk = VaderConstants
    assert vader_scorer.NEGATE == nltk.NEGATE
    singles = {k: v for k, v in nltk.BOOSTER_DICT.items() if " " not in k}
    assert singles == vader_scorer.BOOSTERS
    pairs = {tuple(k.split()) for k in nltk.BOOSTER_DICT if " " in k}
    assert pairs == vader_scorer.BOOSTER_BIGRAMS
    idioms = {tuple(k.split()): v for k, v in nltk.SPECIAL_CASE_IDIOMS.items()}
    assert idioms == vader_scorer.IDIOMS
    assert set(nltk.PUNC_LIST) == vader_scorer.PUNC_AFFIXES
    assert (nltk.B_INCR, nltk.B_DECR, nltk.C_INCR, nltk.N_SCALAR) == (
        vader_scorer.B_INCR,
        vader_scorer.B_DECR,
        vader_scorer.C_INCR,
        vader_scorer.N_SCALAR,
    )


def test_generated_texts_score_exactly_as_nltk() -> None:
    analyzer = _analyzer()
    texts = generate_texts(seed=20260102, count=GENERATED)
    assert len(set(texts)) > 0.95 * GENERATED
    bad = _mismatches(analyzer, VaderScorer.from_nltk(analyzer), texts)
    assert not bad, f"{len(bad)} of {len(texts)} differ, e.g. {bad[:5]!r}"


def test_real_feedback_scores_exactly_as_nltk() -> None:
    analyzer = _analyzer()
    texts = _real_texts()
    assert len(texts) > 1000
    bad = _mismatches(analyzer, VaderScorer.from_nltk(analyzer), texts)
    assert not bad, f"{len(bad)} of {len(texts)} differ, e.g. {bad[:5]!r}"


def test_overlaid_lexicon_scores_exactly_as_nltk() -> None:
    overlaid = _overlaid_analyzer()
    scorer = VaderScorer(overlaid.lexicon)
    texts = generate_texts(seed=7, count=OVERLAY_GENERATED, extra_words=list(OVERLAY) * 3)
    bad = _mismatches(overlaid, scorer, texts)
    assert not bad, f"{len(bad)} of {len(texts)} differ, e.g. {bad[:5]!r}"
    # The overlay changes scores (it is really used) and the scorer took a snapshot.
    assert scorer.polarity_scores("still onhold") != VaderScorer.from_nltk(
        _analyzer()
    ).polarity_scores("still onhold")


@pytest.mark.parametrize("overlay", [False, True])
def test_words_and_valences_are_nltks_intermediates(overlay: bool) -> None:
    analyzer = _overlaid_analyzer() if overlay else _analyzer()
    scorer = VaderScorer(analyzer.lexicon)
    constants = analyzer.constants
    for text in generate_texts(seed=99, count=1000, extra_words=list(OVERLAY)):
        words, valences = scorer.valences(text)
        sentitext = SentiText(text, constants.PUNC_LIST, constants.REGEX_REMOVE_PUNCTUATION)
        assert words == sentitext.words_and_emoticons == scorer.words(text), text
        assert _bits(valences) == _bits(_nltk_sentiments(analyzer, text)), text
        assert _bits(scorer.scores_of(valences, text)) == _bits(scorer.polarity_scores(text)), text


def test_scores_of_recombines_adjusted_valences() -> None:
    scorer = VaderScorer.from_nltk(_analyzer())
    words, valences = scorer.valences("The agent was GREAT but the refund took weeks!!")
    assert words[-2:] == ["took", "weeks"]  # "!!" is one of NLTK's strippable affixes
    assert scorer.scores_of(valences, "x") != scorer.scores_of(valences, "x!!")
    adjusted = [v - 1.0 if w == "weeks" else v for w, v in zip(words, valences, strict=True)]
    assert scorer.scores_of(adjusted, "")["compound"] < scorer.scores_of(valences, "")["compound"]
    assert scorer.scores_of([], "!!!") == {"neg": 0.0, "neu": 0.0, "pos": 0.0, "compound": 0.0}


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("good.", "good"),
        ("?!?good", "good"),
        ("good!!!!", "good!!!!"),
        ("good?!", "good?!"),
        ("(good", "(good"),
        ("don't,", "don't,"),
        ("a.", "a."),
        (":D", ":D"),
        (":-)", ":-)"),
        ("'good'", "'good'"),
    ],
)
def test_strip_token_keeps_nltks_quirks(token: str, expected: str) -> None:
    assert vader_scorer.strip_token(token) == expected
