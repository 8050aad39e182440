"""A VADER scorer that gives NLTK's exact scores several times faster, and shows its work.

``nltk.sentiment.vader.SentimentIntensityAnalyzer.polarity_scores`` (NLTK 3.10.4, pinned)
spends most of each call building a punctuation-by-word table for its tokenizer and
scanning lists. :class:`VaderScorer` follows the same rules with precomputed tables and
per-token work only, and returns the same floats bit for bit. It also exposes the
per-token valences (:meth:`VaderScorer.valences`) so a layer above can adjust them before
they are summed (:meth:`VaderScorer.scores_of`).

The goal is identity with NLTK, not with the VADER paper: wherever NLTK has a quirk or
dead code, the observable behaviour is reproduced on purpose and marked "NLTK quirk".
"""

from __future__ import annotations

import math
import re
import string
from collections.abc import Mapping, Sequence
from itertools import compress
from typing import Any

# VADER's constants, with NLTK's values.
B_INCR = 0.293
B_DECR = -0.293
C_INCR = 0.733  # ALL-CAPS emphasis
N_SCALAR = -0.74  # negation
ALPHA = 15  # compound = s / sqrt(s*s + ALPHA)

NEGATE = frozenset(
    {
        "aint", "arent", "cannot", "cant", "couldnt", "darent", "didnt", "doesnt",
        "ain't", "aren't", "can't", "couldn't", "daren't", "didn't", "doesn't",
        "dont", "hadnt", "hasnt", "havent", "isnt", "mightnt", "mustnt", "neither",
        "don't", "hadn't", "hasn't", "haven't", "isn't", "mightn't", "mustn't",
        "neednt", "needn't", "never", "none", "nope", "nor", "not", "nothing", "nowhere",
        "oughtnt", "shant", "shouldnt", "uhuh", "wasnt", "werent",
        "oughtn't", "shan't", "shouldn't", "uh-uh", "wasn't", "weren't",
        "without", "wont", "wouldnt", "won't", "wouldn't", "rarely", "seldom", "despite",
    }
)  # fmt: skip

_UP = (
    "absolutely amazingly awfully completely considerably decidedly deeply effing enormously "
    "entirely especially exceptionally extremely fabulously flipping flippin fricking frickin "
    "frigging friggin fully fucking greatly hella highly hugely incredibly intensely majorly "
    "more most particularly purely quite really remarkably so substantially thoroughly "
    "totally tremendously uber unbelievably unusually utterly very"
)
_DOWN = (
    "almost barely hardly kinda kindof kind-of less little marginally occasionally partly "
    "scarcely slightly somewhat sorta sortof sort-of"
)
# Single-word boosters and dampeners. A token never contains a space, so NLTK's two-word
# entries ("just enough", "kind of", "sort of") only matter to the idiom check, where
# they are compared with two adjacent tokens.
BOOSTERS: dict[str, float] = {w: B_INCR for w in _UP.split()} | {w: B_DECR for w in _DOWN.split()}
BOOSTER_BIGRAMS = frozenset({("just", "enough"), ("kind", "of"), ("sort", "of")})

# NLTK's SPECIAL_CASE_IDIOMS as token tuples. Matching is case-sensitive: NLTK joins the
# tokens as typed ("The shit" is no idiom). NLTK quirk: idioms are only looked for around
# a lexicon word that is at least the fourth token, so "we live hand to mouth" scores
# hand's +2.2 while "so we live hand to mouth" gets the idiom's -2.
IDIOMS: dict[tuple[str, ...], float] = {
    ("the", "shit"): 3,
    ("the", "bomb"): 3,
    ("bad", "ass"): 1.5,
    ("yeah", "right"): -2,
    ("cut", "the", "mustard"): 2,
    ("kiss", "of", "death"): -1.5,
    ("hand", "to", "mouth"): -2,
}
_IDIOM_WORDS = frozenset(w for key in IDIOMS for w in key) | {"just", "kind", "sort"}

# NLTK's PUNC_LIST: the only affixes its tokenizer strips, and only as a whole.
PUNC_AFFIXES = frozenset(
    {".", "!", "?", ",", ";", ":", "-", "'", '"'}
    | {"!!", "!!!", "??", "???", "?!?", "!?!", "?!?!", "!?!?"}
)
_PUNCT = string.punctuation
_PUNCT_SET = frozenset(_PUNCT)
_has_punct = re.compile(f"[{re.escape(_PUNCT)}]").search
_SO_THIS = ("so", "this")


def strip_token(token: str) -> str:
    """NLTK's tokenizer on one token of two or more characters.

    NLTK removes all ASCII punctuation from the whole text, keeps the remaining words of
    two or more characters, and replaces any token equal to ``p + word`` or ``word + p``
    (``p`` in PUNC_LIST) by ``word``. Since ``word`` holds no punctuation, that is a
    per-token rule: a token loses its leading or trailing punctuation run only when
    (a) the run is exactly one PUNC_LIST entry, (b) the other end has no punctuation,
    (c) no punctuation is left inside, and (d) at least two characters are left.
    So, all NLTK quirks: "good." -> "good" but "good!!!!", "good?!", "(good" and
    "don't," stay as typed, and "a." or ":D" stay because a one-character remainder is
    dropped from NLTK's table (the "<= 2 characters" tokens keep their punctuation).
    """
    if token[0] in _PUNCT_SET:
        if token[-1] in _PUNCT_SET:
            return token
        core = token.lstrip(_PUNCT)
        affix = token[: len(token) - len(core)]
    elif token[-1] in _PUNCT_SET:
        core = token.rstrip(_PUNCT)
        affix = token[len(core) :]
    else:
        return token
    if len(core) > 1 and affix in PUNC_AFFIXES and not _has_punct(core):
        return core
    return token


class VaderScorer:
    """NLTK's VADER scoring with precomputed tables; immutable, so safe to share.

    All state is built in ``__init__`` and only read afterwards; each call keeps its
    working lists in local variables, so threads can share one scorer.
    """

    def __init__(self, lexicon: Mapping[str, float]) -> None:
        """Snapshot ``lexicon`` (word -> valence, NLTK's ``analyzer.lexicon``).

        NLTK looks words up lower-cased, so keys with capitals never match, as in NLTK.
        """
        self._lexicon: dict[str, float] = dict(lexicon)
        # The words that can carry a valence: NLTK zeroes boosters before the lexicon
        # lookup, so a booster overlaid into the lexicon still scores 0 itself.
        self._scored: dict[str, float] = {
            w: v for w, v in self._lexicon.items() if w not in BOOSTERS
        }
        # NLTK quirk: "least" only negates when it is not itself a lexicon word.
        self._least_negates = "least" not in self._lexicon

    @classmethod
    def from_nltk(cls, analyzer: Any) -> VaderScorer:
        """A scorer using an NLTK ``SentimentIntensityAnalyzer``'s (possibly overlaid) lexicon."""
        return cls(analyzer.lexicon)

    def words(self, text: str) -> list[str]:
        """VADER's ``words_and_emoticons``: whitespace tokens of 2+ characters, stripped.

        NLTK quirk: one-character tokens ("I", "a", "5", "!") are dropped before scoring,
        so they count neither as neutral words nor as context for their neighbours.
        """
        edge = _PUNCT_SET
        # Most tokens have no punctuation at either end; only the rest pay a call.
        return [
            strip_token(t) if t[0] in edge or t[-1] in edge else t
            for t in text.split()
            if len(t) > 1
        ]

    def valences(self, text: str) -> tuple[list[str], list[float]]:
        """``(words, sentiments)``: the tokens and the per-token valences NLTK sums.

        The valences are taken after every rule (boosters, ALL CAPS, negation, "never",
        "least", "kind of", idioms and "but"), i.e. exactly the list NLTK passes to
        ``score_valence``. Tokens without valence are ``0``.
        """
        words = self.words(text)
        return words, self._sentiments(words)

    def _sentiments(self, words: list[str]) -> list[float]:
        lows = [w.lower() for w in words]
        n = len(words)
        upper = sum(map(str.isupper, words))
        cap_diff = 0 < n - upper < n  # some, but not all, tokens are ALL CAPS
        scored = self._scored
        # Tokens without a valence (and boosters, which carry none) score 0 wherever
        # they are; only the few lexicon words need the rules.
        sentiments: list[float] = [0] * n
        # NLTK quirk: each token is scored at the index of its *first* occurrence
        # (list.index), so a repeated token copies its first valence whatever its own
        # neighbours are. Memoising per distinct token is therefore exact.
        done: dict[str, float] = {}
        for i in compress(range(n), map(scored.__contains__, lows)):
            word = words[i]
            valence = done.get(word)
            if valence is None:
                low = lows[i]
                if low == "kind" and i < n - 1 and lows[i + 1] == "of":
                    valence = 0  # "kind" in "kind of" carries no valence
                else:
                    valence = self._valence(words, lows, i, scored[low], cap_diff)
                done[word] = valence
            sentiments[i] = valence
        if "but" in lows:
            # NLTK quirk: from the first "but", earlier valences are halved and later
            # ones scaled by 1.5; "but" itself (always 0) is left alone.
            b = lows.index("but")
            for k in range(n):
                if k < b:
                    sentiments[k] = sentiments[k] * 0.5
                elif k > b:
                    sentiments[k] = sentiments[k] * 1.5
        return sentiments

    def _valence(
        self, words: list[str], lows: list[str], i: int, valence: float, cap_diff: bool
    ) -> float:
        """NLTK's ``sentiment_valence`` for lexicon word ``words[i]`` with base ``valence``.

        The float operations are NLTK's, in NLTK's order, so results match bit for bit.
        """
        lexicon = self._lexicon
        if cap_diff and words[i].isupper():
            valence = valence + C_INCR if valence > 0 else valence - C_INCR
        # Up to three preceding tokens; only those without a valence of their own count.
        for back in range(1, 4 if i > 2 else i + 1):
            j = i - back
            prev_low = lows[j]
            if prev_low in lexicon:
                continue
            scalar = BOOSTERS.get(prev_low, 0.0)
            if scalar:
                if valence < 0:
                    scalar = -scalar
                if cap_diff and words[j].isupper():
                    # NLTK quirk: a zero valence counts as negative here.
                    scalar = scalar + C_INCR if valence > 0 else scalar - C_INCR
                if back == 2:
                    scalar = scalar * 0.95
                elif back == 3:
                    scalar = scalar * 0.9
            # Always added (even 0.0), as NLTK does, so the sign of a zero matches too.
            valence = valence + scalar
            # NLTK's _never_check. Comparisons with "never"/"so"/"this" are case-sensitive
            # (a capitalised "Never so" is a plain negation), and NLTK quirk: at distance
            # three, operator precedence makes a "so"/"this" right before the word alone
            # enough for the 1.25 boost. NLTK tests negation with negated([one_word]), so
            # the "X least" pair rule inside negated() is dead code there: only the NEGATE
            # set and "n't" count.
            if back == 1:
                if prev_low in NEGATE or "n't" in prev_low:
                    valence = valence * N_SCALAR
            elif back == 2:
                if words[j] == "never" and words[i - 1] in _SO_THIS:
                    valence = valence * 1.5
                elif prev_low in NEGATE or "n't" in prev_low:
                    valence = valence * N_SCALAR
            else:
                after_so = words[i - 1] in _SO_THIS
                if (words[j] == "never" and words[i - 2] in _SO_THIS) or after_so:
                    valence = valence * 1.25
                elif prev_low in NEGATE or "n't" in prev_low:
                    valence = valence * N_SCALAR
                valence = self._idioms(words, i, valence)
        # NLTK quirk: "at least" and "very least" do not negate, except when the word is
        # second in the text ("least" first), where NLTK skips the check.
        if (
            self._least_negates
            and i > 0
            and lows[i - 1] == "least"
            and (i == 1 or (lows[i - 2] != "at" and lows[i - 2] != "very"))
        ):
            valence = valence * N_SCALAR
        return valence

    @staticmethod
    def _idioms(words: list[str], i: int, valence: float) -> float:
        """NLTK's ``_idioms_check``, run only at distance three (so only when ``i >= 3``).

        An idiom replaces the valence outright (discarding boosts and negation so far).
        Idioms ending at the word are tried first, in NLTK's order, then idioms starting
        at it override them. NLTK quirk: "kind of"/"sort of"/"just enough" in the two
        tokens before (or the two before those) adds B_DECR whatever the valence's sign.
        """
        window = words[i - 3 : i + 3]
        if _IDIOM_WORDS.isdisjoint(window):
            return valence  # fast path: no idiom or two-word booster can match
        w3, w2, w1, w0 = words[i - 3], words[i - 2], words[i - 1], words[i]
        for key in ((w1, w0), (w2, w1, w0), (w2, w1), (w3, w2, w1), (w3, w2)):
            if key in IDIOMS:
                valence = IDIOMS[key]
                break
        n = len(words)
        if n - 1 > i and (w0, words[i + 1]) in IDIOMS:
            valence = IDIOMS[(w0, words[i + 1])]
        if n - 1 > i + 1 and (w0, words[i + 1], words[i + 2]) in IDIOMS:
            valence = IDIOMS[(w0, words[i + 1], words[i + 2])]
        if (w3, w2) in BOOSTER_BIGRAMS or (w2, w1) in BOOSTER_BIGRAMS:
            valence = valence + B_DECR
        return valence

    def scores_of(self, valences: Sequence[float], text: str) -> dict[str, float]:
        """NLTK's ``score_valence``: neg/neu/pos/compound from per-token valences.

        The "!" and "?" emphasis is counted over the whole ``text`` (NLTK quirk: also
        inside emoticons, URLs and one-character tokens), and added even to a text whose
        valences sum to zero when it comes to pos/neg, though not to the compound.
        """
        if not valences:
            return {"neg": 0.0, "neu": 0.0, "pos": 0.0, "compound": 0.0}
        total = float(sum(valences))
        bangs = text.count("!")
        emphasis = (bangs if bangs < 4 else 4) * 0.292
        questions = text.count("?")
        if questions > 1:
            emphasis = emphasis + (questions * 0.18 if questions <= 3 else 0.96)
        if total > 0:
            total += emphasis
        elif total < 0:
            total -= emphasis
        compound = total / math.sqrt((total * total) + ALPHA)
        pos_sum = 0.0
        neg_sum = 0.0
        # Summed one by one in order, as NLTK does (not with sum(), which compensates
        # rounding from Python 3.12 on). Zeros are neutral; a NaN counts nowhere.
        signed = [v for v in valences if v]
        neutral = len(valences) - len(signed)
        for v in signed:
            if v > 0:
                pos_sum += float(v) + 1  # +1 compensates for neutral tokens counting 1
            elif v < 0:
                neg_sum += float(v) - 1
        if pos_sum > -neg_sum:
            pos_sum += emphasis
        elif pos_sum < -neg_sum:
            neg_sum -= emphasis
        weight = pos_sum + math.fabs(neg_sum) + neutral
        return {
            "neg": round(math.fabs(neg_sum / weight), 3),
            "neu": round(math.fabs(neutral / weight), 3),
            "pos": round(math.fabs(pos_sum / weight), 3),
            "compound": round(compound, 4),
        }

    def polarity_scores(self, text: str) -> dict[str, float]:
        """Exactly NLTK's ``polarity_scores(text)``: the same four floats, bit for bit."""
        return self.scores_of(self._sentiments(self.words(text)), text)
