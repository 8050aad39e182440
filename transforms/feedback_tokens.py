"""Feedback text as a list of word tokens on word roots, with offsets into the text.

Root-cause rules are written in plain words and matched on word roots, so that
"packages", "package" and "packaged" are one word to a rule, and the text is
normalised exactly once, here, for every rule: case, typographic apostrophes,
hashtags ("#NeverArrived" is the words "never arrived"), contractions ("didn't" is
"did not", so negation has one spelling), a pack's abbreviations ("pkg", "w/o") and
common misspellings. Every token keeps the character span it came from, so a rule's
evidence is always a slice of the stored (redacted) text.

Sentences matter to matching: words of one rule never combine across a full stop,
so each token carries the number of the sentence it is in.

Roots come from NLTK's Snowball stemmer, which needs no downloaded data. Stemming is
the costly step, and feedback reuses a small vocabulary, so roots are cached.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from nltk.stem.snowball import SnowballStemmer

from voc.transforms.normalize_text import fold_apostrophes

__all__ = [
    "BUILTIN_ABBREVIATIONS",
    "FILLER_WORDS",
    "NEGATION_ROOT",
    "OPTIONAL_WORDS",
    "Token",
    "Vocabulary",
    "hashtag_words",
    "root_of",
    "tokenize",
]

_STEMMER = SnowballStemmer("english")
_ROOTS: dict[str, str] = {}
_MAX_CACHED_ROOTS = 200_000

# Every negation is spelled "not" after tokenizing ("n't", "cannot", "didnt").
NEGATION_ROOT = "not"

# Written without their apostrophe as often as with it, so both are recognised.
_BARE_CONTRACTIONS = {
    "cant": ("can", "not"),
    "cannot": ("can", "not"),
    "wont": ("will", "not"),
    "dont": ("do", "not"),
    "doesnt": ("does", "not"),
    "didnt": ("did", "not"),
    "isnt": ("is", "not"),
    "arent": ("are", "not"),
    "wasnt": ("was", "not"),
    "werent": ("were", "not"),
    "havent": ("have", "not"),
    "hasnt": ("has", "not"),
    "hadnt": ("had", "not"),
    "couldnt": ("could", "not"),
    "wouldnt": ("would", "not"),
    "shouldnt": ("should", "not"),
    "aint": ("is", "not"),
    "ive": ("i", "have"),
    "im": ("i", "am"),
}
_IRREGULAR_NOT = {"can't": "can", "won't": "will", "ain't": "is", "shan't": "shall"}
_SUFFIX_WORDS = {"'ve": "have", "'re": "are", "'ll": "will", "'d": "would", "'m": "am"}

# Abbreviations every pack understands; a pack adds its own (its table wins).
BUILTIN_ABBREVIATIONS: Mapping[str, str] = {
    "w/o": "without",
    "w/": "with",
    "b/c": "because",
    "pls": "please",
    "plz": "please",
    "thx": "thanks",
    "u": "you",
    "ur": "your",
    "r": "are",
    "msg": "message",
    "acct": "account",
    "acc": "account",
    "cust": "customer",
    "cx": "customer",
    "pkg": "package",
    "pkgs": "packages",
    "canx": "cancel",
    "cxl": "cancel",
    "cb": "callback",
    "esc": "escalate",
    "hr": "hour",
    "hrs": "hours",
    "h": "hours",
    "min": "minute",
    "mins": "minutes",
    "sec": "second",
    "secs": "seconds",
    "wk": "week",
    "wks": "weeks",
    "mo": "month",
    "mos": "months",
    "info": "information",
    "amt": "amount",
    "approx": "approximately",
    "appt": "appointment",
    "asap": "as soon as possible",
    "dept": "department",
    "mgr": "manager",
    "rep": "representative",
    "tix": "tickets",
    "tkt": "ticket",
    "pw": "password",
    "pwd": "password",
    "2fa": "two factor",
    "otp": "one time code",
    "doa": "dead on arrival",
    "eta": "expected arrival",
    "nvr": "never",
    "n": "and",
    "bc": "because",
    "cuz": "because",
    "coz": "because",
    "recieve": "receive",
    "recieved": "received",
    "costumer": "customer",
    "definately": "definitely",
    "untill": "until",
}

# Word characters, one optional inner apostrophe, "w/o"-style abbreviations, numbers
# with a decimal part or an ordinal/unit glued on ("45min", "3rd"), and hashtags.
_TOKEN_RE = re.compile(
    r"[^\W\d_]+(?:/[^\W\d_]*|'[^\W\d_]+'?|')?"  # words first: most tokens are
    r"|\d+(?:[.,:]\d+)*[^\W\d_]*"
    r"|#[^\W_]+(?:_[^\W_]+)*"
    r"|[.!?;\n]+"
    r"|[,:()\u2013\u2014]|\s-\s"
)
# The same pattern for ASCII text, where the ASCII flag makes every class test cheaper
# and matches exactly the same tokens; most feedback is ASCII.
_ASCII_TOKEN_RE = re.compile(_TOKEN_RE.pattern, re.ASCII)
_SENTENCE_END = frozenset(".!?;\n")
_PAUSE = frozenset(",:()\u2013\u2014 ")
_DIGITS_THEN_LETTERS = re.compile(r"(\d+(?:[.,:]\d+)*)([^\W\d_]+)")


class Token(NamedTuple):
    """One word of the text: its normalised spelling, its root, and where it came from."""

    word: str  # lower case, after contractions and abbreviations
    root: str
    start: int  # character span in the text the token came from
    end: int
    sentence: int
    clause: int  # sentences and their comma/colon/dash-separated parts, numbered
    index: int  # position in the token list


@dataclass(frozen=True)
class Vocabulary:
    """What tokenizing needs from a taxonomy: its abbreviations and the words its
    rules use (for splitting run-together hashtags and fixing near-miss spellings)."""

    abbreviations: Mapping[str, str]
    words: frozenset[str] = frozenset()
    # one-letter-deleted forms of every rule word of six letters or more -> the word
    near_misses: Mapping[str, str] | None = None
    roots: frozenset[str] = frozenset()  # the roots of ``words``
    # spelling as typed -> its (word, root) pairs; feedback reuses a small vocabulary
    words_cache: dict[str, tuple[tuple[str, str], ...]] = field(
        default_factory=dict, repr=False, compare=False
    )

    @classmethod
    def build(cls, abbreviations: Mapping[str, str], words: frozenset[str]) -> Vocabulary:
        """Index the words' near misses: a token that is a rule word with one letter
        left out ("recived", "cancled") or two neighbours swapped ("recieve") reads
        as that word. Only rule words of six letters or more, and no inserted or
        substituted letters: "charger" must not read as "charge"."""
        misses: dict[str, str] = {}
        for word in sorted(words):
            if len(word) < 6 or not word.isalpha():
                continue
            for position in range(len(word)):
                misses.setdefault(word[:position] + word[position + 1 :], word)
            for position in range(len(word) - 1):
                swapped = (
                    word[:position] + word[position + 1] + word[position] + word[position + 2 :]
                )
                if swapped != word:
                    misses.setdefault(swapped, word)
        for word in words:
            misses.pop(word, None)
        roots = frozenset(root_of(word) for word in words)
        return cls(dict(abbreviations), words, misses, roots)


_DEFAULT_WORDS_CACHE: dict[str, tuple[tuple[str, str], ...]] = {}
# Token(...) goes through a Python-level __new__; the hot loop builds the tuple directly.
_new_token = tuple.__new__


# Small words that carry no cause. Between the words of a rule's phrase any of the
# FILLER_WORDS may stand (at most two), so "charged twice" matches "charged me twice".
# The OPTIONAL_WORDS among them (articles, possessives, auxiliaries) may also be
# left out of the text where a phrase writes them, so "hands are tied" matches
# "hands were tied"; pronouns and adverbs may not ("signed me up" is not "signed
# up", "explain everything again" is not "explain everything"). Never negations.
# Compared as words, not roots: Snowball reads "completely" as "complete".
_OPTIONAL_WORDS = (
    "a an the my your our their his her its this that these those some any "
    "is are was were be been being am has have had do does did will would can could "
    "should may might shall"
)
_OTHER_FILLER_WORDS = (
    "all me us them it him i we you they still even yet just really already ever again "
    "also so very quite only actually literally completely totally finally now "
    "apparently supposedly kept keeps keep"
)


def root_of(word: str) -> str:
    """The Snowball root of one lower-case word, cached."""
    root = _ROOTS.get(word)
    if root is None:
        if not word.isalpha() or len(word) <= 2 or word.endswith("lly"):
            # "manually" is not "manual", "totally" not "total", "finally" not "final":
            # Snowball would merge them
            root = word
        else:
            root = _STEMMER.stem(word)
        if len(_ROOTS) < _MAX_CACHED_ROOTS:
            _ROOTS[word] = root
    return root


def tokenize(text: str, vocabulary: Vocabulary | None = None) -> list[Token]:
    """The text's word tokens, in order, with roots, spans and sentence numbers."""
    abbreviations = vocabulary.abbreviations if vocabulary else BUILTIN_ABBREVIATIONS
    if text.isascii():
        folded, pattern = text, _ASCII_TOKEN_RE
    else:
        folded, pattern = fold_apostrophes(text), _TOKEN_RE
    tokens: list[Token] = []
    sentence = 0
    clause = 0
    words_cache = vocabulary.words_cache if vocabulary else _DEFAULT_WORDS_CACHE
    append = tokens.append
    for found in pattern.finditer(folded):
        raw = found.group()
        start, end = found.span()
        first = raw[0]
        if first.isalpha():  # most tokens: plain words, normalised once per spelling
            words = words_cache.get(raw)
            if words is None:
                words = tuple(
                    (word, root_of(word))
                    for word in _words_of(raw.lower(), abbreviations, vocabulary)
                )
                if len(words_cache) < _MAX_CACHED_ROOTS:
                    words_cache[raw] = words
            for word, root in words:
                append(_new_token(Token, (word, root, start, end, sentence, clause, len(tokens))))
            continue
        if first in _SENTENCE_END or first in _PAUSE or first.isspace():
            if tokens and tokens[-1].clause == clause:
                clause += 1
            if first in _SENTENCE_END and tokens and tokens[-1].sentence == sentence:
                sentence += 1
            continue
        where = (sentence, clause)
        if first == "#":
            for word, word_start, word_end in _hashtag_words(raw, start, vocabulary):
                # "#PackageDidntArrive": contractions and abbreviations apply inside
                words_of = _words_of(word, abbreviations, vocabulary)
                _append_words(tokens, words_of, word_start, word_end, where)
            continue
        lowered = raw.lower()
        if first.isdigit():
            expanded = abbreviations.get(lowered)  # "2fa"
            if expanded is not None:
                _append_words(tokens, expanded.split(), start, end, where)
                continue
            glued = _DIGITS_THEN_LETTERS.fullmatch(lowered)
            if glued is not None and glued.group(2) not in ("st", "nd", "rd", "th"):
                number, unit = glued.groups()
                _append_words(tokens, (number,), start, start + len(number), where)
                unit_words = abbreviations.get(unit, unit).split()
                _append_words(tokens, unit_words, start + len(number), end, where)
                continue
            _append_words(tokens, (lowered,), start, end, where)
            continue
        _append_words(tokens, (lowered,), start, end, where)
    return tokens


def _words_of(
    lowered: str, abbreviations: Mapping[str, str], vocabulary: Vocabulary | None
) -> tuple[str, ...]:
    """Contractions split, abbreviations expanded, near-miss spellings fixed."""
    expanded = abbreviations.get(lowered)
    if expanded is not None:
        return tuple(expanded.split())
    if "'" in lowered:
        lowered = lowered.rstrip("'")
        if lowered.endswith("n't"):
            stem = _IRREGULAR_NOT.get(lowered) or lowered[:-3]
            return (stem, NEGATION_ROOT)
        head, _, tail = lowered.partition("'")
        suffix = _SUFFIX_WORDS.get("'" + tail)
        if suffix is not None:
            return (head, suffix)
        if tail == "s":  # possessive or "it's": the head carries the meaning
            return (head,)
        return (head + tail,)
    bare = _BARE_CONTRACTIONS.get(lowered)
    if bare is not None:
        return bare
    if "/" in lowered:
        return tuple(part for part in lowered.split("/") if part)
    if vocabulary is not None and vocabulary.near_misses and lowered not in vocabulary.words:
        fixed = vocabulary.near_misses.get(lowered)
        # "defect" is a word in its own right ("defective" is a rule word), not a
        # misspelling of "deflect": a token whose root a rule uses is left alone
        if fixed is not None and root_of(lowered) not in vocabulary.roots:
            return (fixed,)
    return (lowered,)


def _append_words(
    tokens: list[Token],
    words: tuple[str, ...] | list[str],
    start: int,
    end: int,
    where: tuple[int, int],
) -> None:
    sentence, clause = where
    for word in words:
        tokens.append(Token(word, root_of(word), start, end, sentence, clause, len(tokens)))


def _hashtag_words(
    raw: str, start: int, vocabulary: Vocabulary | None
) -> list[tuple[str, int, int]]:
    """#NeverArrived -> never, arrived (by case); #stillwaiting -> still, waiting when
    the taxonomy's own words can spell it; otherwise the tag as one word."""
    body = raw[1:]
    offset = start + 1
    parts = [
        (body[begin:end].lower(), offset + begin, offset + end) for begin, end in _camel_spans(body)
    ]
    if len(parts) > 1:
        return parts
    lowered = body.lower()
    if vocabulary is not None:
        split = _segment(lowered, vocabulary.words)
        if split is not None and len(split) > 1:
            words: list[tuple[str, int, int]] = []
            position = offset
            for word in split:
                words.append((word, position, position + len(word)))
                position += len(word)
            return words
    return [(lowered, offset, offset + len(body))]


def hashtag_words(body: str, words: frozenset[str]) -> list[str]:
    """The words of a hashtag's body ("StillWaiting", "neveragain", "fail"): split by
    case, else into known ``words``, else where a known word of four letters or more
    starts or ends it ("worstservice" -> worst, service); else the body as one word."""
    spans = _camel_spans(body)
    if len(spans) > 1:
        return [body[begin:end] for begin, end in spans]
    lowered = body.lower()
    split = _segment(lowered, words)
    if split is not None:
        return split
    for cut in range(len(lowered) - 3, 3, -1):
        if lowered[:cut] in words or lowered[cut:] in words:
            return [lowered[:cut], lowered[cut:]]
    return [body]


def _camel_spans(body: str) -> list[tuple[int, int]]:
    """Where the words of "NeverArrived", "ÜberFällig" or "PS5Broken" begin and end:
    at a lower-to-upper change, before the last capital of a capitalised run
    ("DPDLost" -> DPD, Lost), between letters and digits, and at underscores."""
    spans: list[tuple[int, int]] = []
    begin = 0
    for position in range(1, len(body) + 1):
        if position == len(body):
            spans.append((begin, position))
            break
        before, char = body[position - 1], body[position]
        after = body[position + 1] if position + 1 < len(body) else ""
        boundary = (
            (before.islower() and char.isupper())
            or (before.isupper() and char.isupper() and after.islower())
            or (before.isdigit() != char.isdigit())
            or char == "_"
            or before == "_"
        )
        if boundary:
            if body[begin:position].strip("_"):
                spans.append((begin, position))
            begin = position
    return [(b, e) for b, e in spans if body[b:e].strip("_")]


def _segment(text: str, words: frozenset[str]) -> list[str] | None:
    """Split run-together words into known words (fewest pieces), or None."""
    if len(text) > 40:
        return None
    best: list[list[str] | None] = [None] * (len(text) + 1)
    best[0] = []
    for end in range(1, len(text) + 1):
        for begin in range(max(0, end - 20), end):
            prefix = best[begin]
            piece = text[begin:end]
            if prefix is not None and (piece in words or piece in _GLUE_WORDS):
                candidate = [*prefix, piece]
                current = best[end]
                if current is None or len(candidate) < len(current):
                    best[end] = candidate
    return best[len(text)]


# Short words that run-together hashtags are glued with, beside the taxonomy's own.
_GLUE_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "my",
        "your",
        "our",
        "me",
        "i",
        "you",
        "we",
        "it",
        "is",
        "was",
        "not",
        "no",
        "never",
        "still",
        "again",
        "ever",
        "so",
        "too",
        "of",
        "on",
        "in",
        "at",
        "to",
        "for",
        "and",
        "or",
        "but",
        "be",
        "been",
        "have",
        "has",
        "had",
        "do",
        "did",
        "does",
        "get",
        "got",
    ]
)


OPTIONAL_WORDS = frozenset(_OPTIONAL_WORDS.split())
FILLER_WORDS = OPTIONAL_WORDS | frozenset(_OTHER_FILLER_WORDS.split())
