"""Sentiment scoring for feedback text: NLTK VADER plus voc's customer-support lexicon.

VADER is used because it needs no training data, is fast enough for per-event scoring
(thousands of texts per second on one core) and its output is explainable word by word.
Its general-purpose lexicon misreads support language, so voc layers a small, reviewed
domain lexicon (``schemas/tagging/sentiment_lexicon.yaml``) on top of it.

NLTK cannot download its data here (pipelines run without network access), so the
VADER lexicon zip NLTK expects is built from the copy shipped by the pinned
``vaderSentiment`` package; see :func:`ensure_vader_lexicon`.

Run ``python -m voc.transforms.score_sentiment`` to prepare the lexicon ahead of time.
"""

from __future__ import annotations

import functools
import importlib.resources
import os
import re
import sys
import tempfile
import threading
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from voc.transforms.detect_language import UNDETERMINED, detect_language
from voc.transforms.emoji_names import name_emoji
from voc.transforms.feedback_tokens import Token, hashtag_words, tokenize
from voc.transforms.normalize_text import fold_apostrophes
from voc.transforms.numeric_evidence import Quantity
from voc.transforms.records import UNSCORED, SentimentScore
from voc.transforms.support_sentiment import (
    LABELS,
    NEUTRAL_BAND,
    SentimentReading,
    label_of,
    read_sentiment,
)
from voc.transforms.text_features import features_of
from voc.transforms.vader_scorer import VaderScorer

if TYPE_CHECKING:
    from voc.transforms.learned_model import LearnedModel

# Where NLTK looks for the lexicon, relative to a directory on nltk.data.path.
LEXICON_ZIP = Path("sentiment") / "vader_lexicon.zip"
LEXICON_MEMBER = "vader_lexicon/vader_lexicon.txt"
LEXICON_RESOURCE = f"{LEXICON_ZIP.as_posix()}/{LEXICON_MEMBER}"

# Environment variable that overrides where the NLTK data directory lives, for read-only
# virtualenvs or images that prepare the lexicon at build time.
DATA_DIR_ENV = "VOC_NLTK_DATA"

# VADER's own recommended cut-offs: compound scores in (-0.05, 0.05) carry too little
# signal to call either way, so they are "neutral" rather than a coin flip. The
# support layer labels with the same band.
POSITIVE_THRESHOLD = NEUTRAL_BAND
NEGATIVE_THRESHOLD = -NEUTRAL_BAND

# Only the first MAX_SCORED_CHARS characters are scored. VADER's tokenizer builds
# per-call tables proportional to the number of words times its punctuation list, so
# a 20,000-character note costs tens of milliseconds and would stall a pipeline worker;
# and because the compound score saturates towards +-1 as valences add up, text beyond
# the first few thousand characters rarely changes the label.
MAX_SCORED_CHARS = 5_000

DOMAIN_LEXICON_RESOURCE = "sentiment_lexicon.yaml"
# The lexicon reads English; "und" is text too short to tell (mostly English here).
SCORED_LANGUAGES = frozenset(["en", UNDETERMINED])
_VALENCE_LIMIT = 4.0


# ---------------------------------------------------------------------------
# Pure helpers
# ---------------------------------------------------------------------------


def label_for_compound(compound: float) -> str:
    """Map a compound score to a label with VADER's +-0.05 neutral band."""
    if compound >= POSITIVE_THRESHOLD:
        return "positive"
    if compound <= NEGATIVE_THRESHOLD:
        return "negative"
    return "neutral"


def truncate_for_scoring(text: str, limit: int = MAX_SCORED_CHARS) -> str:
    """Cut text to ``limit`` characters at a word boundary (see MAX_SCORED_CHARS).

    Cutting mid-word could turn the last word into a different, sentiment-laden token.
    """
    if len(text) <= limit:
        return text
    head = text[:limit]
    cut = max(head.rfind(" "), head.rfind("\n"), head.rfind("\t"))
    # A text without whitespace is one huge token; any cut is as good as another.
    return head[:cut] if cut > 0 else head


def phrase_token(phrase: str) -> str:
    """The single token a multi-word phrase becomes before VADER sees it.

    Only letters and digits are kept: VADER strips leading and trailing punctuation from
    tokens (an underscore counts as punctuation) and treats any token containing "n't"
    as a negation, so "doesn't work" must become "doesntwork", not "doesn't_work".
    """
    return "".join(ch for ch in phrase if ch.isalnum())


def parse_domain_lexicon(data: Any) -> tuple[dict[str, float], dict[str, float]]:
    """Validate the loaded YAML and return (words, phrases) keyed as VADER will look up.

    Phrases are returned keyed by the phrase text; the caller derives their tokens.
    Validation is strict because a typo here silently changes every score.
    """
    if not isinstance(data, dict):
        raise ValueError("sentiment lexicon: top level must be a mapping")
    unknown = set(data) - {"words", "phrases"}
    if unknown:
        raise ValueError(f"sentiment lexicon: unknown sections {sorted(unknown)}")
    sections: list[dict[str, float]] = []
    for section in ("words", "phrases"):
        raw = data.get(section) or {}
        if not isinstance(raw, dict):
            raise ValueError(f"sentiment lexicon: {section!r} must be a mapping")
        parsed: dict[str, float] = {}
        for key, value in raw.items():
            if not isinstance(key, str) or not key.strip():
                raise ValueError(f"sentiment lexicon: bad entry {key!r} in {section!r}")
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"sentiment lexicon: {key!r} needs a number, got {value!r}")
            if not -_VALENCE_LIMIT <= float(value) <= _VALENCE_LIMIT:
                raise ValueError(f"sentiment lexicon: {key!r}={value} outside +-4")
            normalised = " ".join(key.lower().split())
            is_phrase = " " in normalised
            if is_phrase != (section == "phrases"):
                raise ValueError(
                    f"sentiment lexicon: {key!r} belongs in {'phrases' if is_phrase else 'words'}"
                )
            parsed[normalised] = float(value)
        sections.append(parsed)
    return sections[0], sections[1]


def compile_phrase_pattern(phrases: list[str]) -> re.Pattern[str] | None:
    """One case-insensitive regex matching any phrase as whole words, longest first.

    Longest first so that "went above and beyond" wins over "above and beyond".
    """
    if not phrases:
        return None
    alternatives = []
    for phrase in sorted(phrases, key=len, reverse=True):
        words = []
        for word in phrase.split():
            escaped = re.escape(word).replace("'", "['\u2019]")
            words.append(escaped)
        alternatives.append(r"[\s\-]+".join(words))
    return re.compile(
        r"(?<![\w'\u2019])(?:" + "|".join(alternatives) + r")(?![\w'\u2019])",
        re.IGNORECASE,
    )


def join_phrases(text: str, pattern: re.Pattern[str] | None) -> str:
    """Rewrite each domain phrase in ``text`` into its single lexicon token.

    The original letters (and their case) are kept, so VADER's ALL-CAPS emphasis still
    applies to a shouted "ON HOLD".
    """
    if pattern is None:
        return text
    return pattern.sub(lambda m: phrase_token(m.group(0)), text)


# ---------------------------------------------------------------------------
# NLTK data preparation
# ---------------------------------------------------------------------------

_prepared_dirs: set[Path] = set()
_prepare_lock = threading.Lock()


def _vader_lexicon_source() -> bytes:
    return (importlib.resources.files("vaderSentiment") / "vader_lexicon.txt").read_bytes()


def _zip_is_complete(zip_path: Path) -> bool:
    """Cheap integrity check: the zip opens and holds the member NLTK will read."""
    try:
        with zipfile.ZipFile(zip_path) as archive:
            return LEXICON_MEMBER in archive.namelist()
    except (OSError, zipfile.BadZipFile):
        return False


def _write_lexicon_zip(data_dir: Path) -> None:
    """Write the zip via a temporary file and an atomic rename.

    Several pipeline workers may start at once; a rename means each of them sees either
    no zip or a complete one, never a half-written file.
    """
    target = data_dir / LEXICON_ZIP
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".vader_lexicon.", suffix=".zip.tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                archive.writestr(LEXICON_MEMBER, _vader_lexicon_source())
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def _default_data_dirs() -> list[Path]:
    """Candidate directories, preferred first, for when the caller names none."""
    override = os.environ.get(DATA_DIR_ENV)
    primary = Path(override) if override else Path(sys.prefix) / "nltk_data"
    return [primary, Path.home() / ".cache" / "voc" / "nltk_data"]


def _register_with_nltk(data_dir: Path) -> None:
    import nltk.data

    entry = str(data_dir)
    if entry not in nltk.data.path:
        # First, so our copy wins over any stale one elsewhere on the path.
        nltk.data.path.insert(0, entry)


def ensure_vader_lexicon(data_dir: Path | None = None) -> Path:
    """Make sure NLTK can load the VADER lexicon offline; return the data directory.

    With no ``data_dir``: ``$VOC_NLTK_DATA`` if set, else ``<sys.prefix>/nltk_data``
    (on NLTK's default path, so a venv needs no configuration), falling back to
    ``~/.cache/voc/nltk_data`` when that is not writable. An explicit ``data_dir`` is
    used as given and errors are raised. The directory is added to ``nltk.data.path``
    because NLTK 3.10 refuses to load resources from anywhere else.

    Idempotent; after the first call in a process it costs a set lookup.
    """
    candidates = [data_dir.expanduser()] if data_dir is not None else _default_data_dirs()
    with _prepare_lock:
        for candidate in candidates:
            resolved = candidate.resolve()
            if resolved in _prepared_dirs:
                return resolved
        last_error: OSError | None = None
        for candidate in candidates:
            resolved = candidate.resolve()
            try:
                if not _zip_is_complete(resolved / LEXICON_ZIP):
                    _write_lexicon_zip(resolved)
            except OSError as error:
                last_error = error
                continue
            _register_with_nltk(resolved)
            _prepared_dirs.add(resolved)
            return resolved
    assert last_error is not None
    raise last_error


# ---------------------------------------------------------------------------
# Shared analyzers
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Analyzers:
    plain: Any  # nltk SentimentIntensityAnalyzer with VADER's lexicon only: the baseline
    engine: VaderScorer  # NLTK-identical VADER over the lexicon overlaid with voc's
    lexicon: dict[str, float]  # that overlaid lexicon
    phrase_pattern: re.Pattern[str] | None
    # One word of every phrase, as the tokenizer spells it: a sentence without any of
    # them holds no phrase, and skips the phrase pattern.
    phrase_anchors: frozenset[str]
    hashtag_words: frozenset[str]  # words a run-together hashtag may be split into
    # The engine's methods under the names support_sentiment.read_sentiment expects,
    # bound once rather than forwarded on every sentence.
    valences: Callable[[str], tuple[list[str], list[float]]]
    scores_of: Callable[[Sequence[float], str], dict[str, float]]


_analyzers: _Analyzers | None = None
_analyzers_lock = threading.Lock()


@functools.cache
def load_domain_lexicon() -> tuple[dict[str, float], dict[str, float]]:
    """The packaged domain lexicon as (words, phrases); parsed once per process."""
    resource = importlib.resources.files("voc.schemas") / "tagging" / DOMAIN_LEXICON_RESOURCE
    return parse_domain_lexicon(yaml.safe_load(resource.read_text(encoding="utf-8")))


def _build_analyzers() -> _Analyzers:
    from nltk.sentiment.vader import SentimentIntensityAnalyzer

    ensure_vader_lexicon()
    plain = SentimentIntensityAnalyzer(lexicon_file=LEXICON_RESOURCE)
    words, phrases = load_domain_lexicon()
    phrase_entries: dict[str, float] = {}
    for phrase, valence in phrases.items():
        token = phrase_token(phrase)
        if token in plain.lexicon or token in words:
            # The joined token would silently take over a real word's valence.
            raise ValueError(f"sentiment lexicon: phrase {phrase!r} collides with {token!r}")
        phrase_entries[token] = valence
    lexicon = {**plain.lexicon, **words, **phrase_entries}
    hashtag_words = frozenset(
        word for word in lexicon if word.isalpha() and len(word) > 2
    ) | frozenset(word for phrase in phrases for word in phrase.split())
    anchors = frozenset(
        max((token.word for token in tokenize(phrase)), key=len) for phrase in phrases
    )
    engine = VaderScorer(lexicon)
    return _Analyzers(
        plain,
        engine,
        lexicon,
        compile_phrase_pattern(list(phrases)),
        anchors,
        hashtag_words,
        engine.valences,
        engine.scores_of,
    )


def _get_analyzers() -> _Analyzers:
    """Process-wide analyzers, built on first use.

    Building parses a 7,500-line lexicon; Beam's DirectRunner re-creates DoFns for every
    bundle, so per-DoFn construction would dominate the cost of scoring. Scoring itself
    only reads the analyzers, so sharing them between threads is safe.
    """
    global _analyzers
    analyzers = _analyzers
    if analyzers is None:
        with _analyzers_lock:
            if _analyzers is None:
                _analyzers = _build_analyzers()
            analyzers = _analyzers
    return analyzers


def warm_up() -> None:
    """Build the shared analyzers now, e.g. in DoFn.setup, instead of on the first event."""
    _get_analyzers()


# ---------------------------------------------------------------------------
# Scoring
# ---------------------------------------------------------------------------

_GLUED_PUNCTUATION = re.compile(r"(\w)([!?]{2,}[!?.]*)")
_HASHTAG = re.compile(r"#([^\W_][\w]*)")


def prepare_sentence(
    sentence: str, tokens: Sequence[Token] | None = None, analyzers: _Analyzers | None = None
) -> str:
    """Rewrite one sentence for VADER: runs of "!" and "?" parted from the word they
    follow, typographic apostrophes folded (so its negation rules see "isn't"),
    hashtags split into words ("#StillWaiting" -> "Still Waiting", "#neveragain" ->
    "never again"), emoji named ("\U0001f44e" -> "thumbs down"), and domain phrases
    joined into their lexicon tokens (``tokens``, the sentence's, if known, tell
    when it holds no phrase)."""
    analyzers = analyzers or _get_analyzers()
    if "!!" in sentence or "??" in sentence or "?!" in sentence or "!?" in sentence:
        # NLTK keeps "good!!!!" whole (not a lexicon word); the run still counts as
        # emphasis once it stands apart
        sentence = _GLUED_PUNCTUATION.sub(r"\1 \2", sentence)
    if not sentence.isascii():
        sentence = name_emoji(fold_apostrophes(sentence))
    if "#" in sentence:
        sentence = _HASHTAG.sub(
            lambda found: " ".join(hashtag_words(found.group(1), analyzers.hashtag_words)),
            sentence,
        )
    if tokens is not None and not any(token.word in analyzers.phrase_anchors for token in tokens):
        return sentence
    return join_phrases(sentence, analyzers.phrase_pattern)


def read_text_sentiment(
    text: str,
    tokens: Sequence[Token] | None = None,
    model: LearnedModel | None = None,
    quantities: list[Quantity] | None = None,
    features: list[str] | None = None,
) -> tuple[SentimentScore, SentimentReading | None]:
    """A text's sentiment, and the per-sentence reading behind it (None when the text
    was not scored: empty, or in a language the lexicon does not read).

    ``tokens``: the text's feedback tokens if the caller has them (tagging tokenizes
    once for sentiment and causes), ``quantities`` their durations and counts;
    ``model``: a learned model to blend in, ``features`` the model's features of the
    tokens if the caller has them (tagging shares them with the cause model).
    """
    if not text or not text.strip():
        return SentimentScore(0.0, "neutral", 1.0, UNDETERMINED), None
    scored = truncate_for_scoring(text)
    if len(scored) < len(text):  # the caller's tokens and quantities may run past the cut
        if tokens is not None:
            tokens = [token for token in tokens if token.end <= len(scored)]
        if quantities is not None:
            quantities = [quantity for quantity in quantities if quantity.end <= len(scored)]
        features = None
    text = scored
    language = detect_language(text)
    if language not in SCORED_LANGUAGES:
        return SentimentScore(0.0, UNSCORED, 0.0, language), None
    analyzers = _get_analyzers()
    if tokens is None:
        tokens = tokenize(text)
    reading = read_sentiment(
        text,
        tokens,
        analyzers,
        lambda part, part_tokens: prepare_sentence(part, part_tokens, analyzers),
        quantities,
    )
    if model is None:
        score = SentimentScore(reading.compound, reading.label, reading.confidence, language)
        return score, reading
    if features is None:
        features = features_of(tokens)
    return blend_with_model(reading, model, features, language), reading


def score_sentiment(
    text: str, model: LearnedModel | None = None, tokens: Sequence[Token] | None = None
) -> SentimentScore:
    """Score one feedback text: VADER with voc's support-language layer, and a learned
    model blended in when one is given (see read_text_sentiment)."""
    return read_text_sentiment(text, tokens, model)[0]


def blend_with_model(
    reading: SentimentReading, model: LearnedModel, features: list[str], language: str
) -> SentimentScore:
    """Mix the lexicon's class probabilities with the model's by the model's weight
    (chosen when it was trained): each covers the other's blind spots, the lexicon
    words nobody in the history used, the model a company's own vocabulary."""
    learned = model.sentiment_probabilities(features)
    weight = model.blend_weight
    mixed = mix_probabilities(reading.probabilities, learned, weight)
    label = label_of(mixed)
    compound = (1 - weight) * reading.compound + weight * (
        learned["positive"] - learned["negative"]
    )
    return SentimentScore(round(compound, 4), label, round(max(mixed), 4), language, model.version)


def mix_probabilities(
    lexical: Sequence[float], learned: Mapping[str, float], weight: float
) -> list[float]:
    """(1 - weight) x the lexicon's class probabilities + weight x the model's, in
    LABELS order: what tagging uses, and what voc learn chooses the weight by."""
    return [
        (1 - weight) * lexical_value + weight * learned[label]
        for lexical_value, label in zip(lexical, LABELS, strict=True)
    ]


def plain_vader_score(text: str) -> float:
    """Compound score from unmodified NLTK VADER: the baseline for evaluations.

    The same length cap applies so that benchmarks compare like with like.
    """
    if not text or not text.strip():
        return 0.0
    analyzers = _get_analyzers()
    return float(analyzers.plain.polarity_scores(truncate_for_scoring(text))["compound"])


def main() -> None:
    """Prepare the NLTK data (for the Makefile and container builds) and say where."""
    print(ensure_vader_lexicon())


if __name__ == "__main__":
    main()
