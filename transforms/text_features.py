"""The features a learned model reads from one text: word roots, root bigrams, negation.

``voc learn`` trains small linear models (sentiment, causes) and the tagging step
scores with them; both must see exactly the same features, so both call
:func:`features_of` on the tokens of :func:`voc.transforms.feedback_tokens.tokenize`
(run with the taxonomy's vocabulary, so abbreviations and near-miss spellings are
read the way the rules read them). The tokens are the ones the cause matcher has
already made, so featurising costs a loop over them and nothing more.

From the tokens of "I didn't get my 2nd refund, but thanks":

- every word's root as a unigram: ``i``, ``did``, ``not``, ``my``, ``<num>``, ...;
- the roots of two adjacent words of one clause as a bigram: ``did not``,
  ``not get``, ``get my``, ``my <num>``, ``<num> refund``, ...; never across a comma,
  a "but" clause or a sentence end;
- a word inside a short negation scope becomes ``not:`` + its root instead of its
  plain root: ``not:get``, ``not:refund``. The scope opens after a negation word
  (:data:`voc.transforms.match_root_causes.NEGATION_ROOTS`: "not" - which every
  "n't" becomes - no, never, without, nobody, nothing, none, neither, nor) and
  covers the next :data:`NEGATION_SCOPE` words that are not small filler words
  ("my", "the", "it", which stay plain: "not:my" would say nothing), ending early at
  a clause break or a word that starts another clause ("but", "because", ...);
- every number as the one feature ``<num>`` ("3", "45", "2nd", "10.50").

Features are unique within a text, in first-seen order. Bigrams are written with
one space between the roots, negated words with a colon, so the three kinds never
collide (roots hold neither).
"""

from __future__ import annotations

from collections.abc import Sequence

from voc.transforms.feedback_tokens import FILLER_WORDS, Token, root_of
from voc.transforms.match_root_causes import NEGATION_ROOTS

__all__ = ["NEGATED_PREFIX", "NEGATION_SCOPE", "NUMBER_FEATURE", "features_of"]

NUMBER_FEATURE = "<num>"
NEGATED_PREFIX = "not:"
# Content words a negation reaches: "did not arrive on time" marks arrive, time
# ("on" is not a filler word, so it is marked and counted too). Short on purpose:
# past three words a negation has usually stopped being about the word.
NEGATION_SCOPE = 3
_CLAUSE_STARTS = (
    "but however although though except instead whereas while because since so and then which who"
)
_SCOPE_ENDS = frozenset(root_of(word) for word in _CLAUSE_STARTS.split())
# Each spelling's part in the features, worked out once per word (feedback reuses a
# small vocabulary): (feature, negated feature, kind, the bigrams it starts: next
# feature -> "feature next"). Cached strings keep their hash, so adding them to a
# text's features costs no hashing; this halves the time of a text.
_CONTENT, _FILLER_WORD, _NEGATION, _SCOPE_END, _SKIP = range(5)
_WORDS: dict[str, tuple[str, str, int, dict[str, str]]] = {}
_MAX_CACHED = 200_000
# Bigram strings cached in all (a few tens of MB at most); past it they are built anew.
_BIGRAM_ROOM = [1_000_000]


def features_of(tokens: Sequence[Token]) -> list[str]:
    """The text's features (see the module docstring), unique, in first-seen order."""
    features: dict[str, None] = {}
    previous = ""  # the previous word's feature in this clause, "" at a clause start
    followers: dict[str, str] | None = None  # the previous word's bigrams
    clause = -1
    reach = 0  # content words the current negation still covers
    words = _WORDS
    for token in tokens:
        known = words.get(token[0])
        if known is None:
            known = _word_features(token[0], token[1])
        feature, negated, kind, next_bigrams = known
        if kind == _SKIP:
            continue
        if token[5] != clause:
            clause = token[5]
            followers = None
            reach = 0
        elif kind == _SCOPE_END:
            reach = 0
        if followers is not None:
            bigram = followers.get(feature)
            if bigram is None:
                bigram = previous + " " + feature
                if _BIGRAM_ROOM[0] > 0:
                    followers[feature] = bigram
                    _BIGRAM_ROOM[0] -= 1
            features[bigram] = None
        previous = feature
        followers = next_bigrams
        if kind == _NEGATION:
            reach = NEGATION_SCOPE
        elif reach and kind == _CONTENT:
            reach -= 1
            feature = negated
        features[feature] = None
    return list(features)


def _word_features(word: str, root: str) -> tuple[str, str, int, dict[str, str]]:
    if not word or not root:
        feature, negated, kind = "", "", _SKIP
    elif word[0].isdigit():
        feature = negated = NUMBER_FEATURE  # a number is never negated
        kind = _FILLER_WORD
    elif not root[0].isalpha():
        feature, negated, kind = "", "", _SKIP  # a stray symbol: none in plain text
    elif root in NEGATION_ROOTS:
        feature, negated, kind = root, root, _NEGATION
    elif root in _SCOPE_ENDS:
        feature, negated, kind = root, root, _SCOPE_END
    elif word in FILLER_WORDS:
        feature, negated, kind = root, root, _FILLER_WORD
    else:
        feature, negated, kind = root, NEGATED_PREFIX + root, _CONTENT
    known = (feature, negated, kind, {})
    if len(_WORDS) < _MAX_CACHED:
        _WORDS[word] = known
    return known
