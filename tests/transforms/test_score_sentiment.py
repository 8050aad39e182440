"""Tests for voc.transforms.score_sentiment: offline NLTK data, domain lexicon, scoring."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import nltk
import nltk.data
import pytest

from voc.transforms import score_sentiment as ss
from voc.transforms.records import SentimentScore
from voc.transforms.score_sentiment import (
    LEXICON_MEMBER,
    LEXICON_RESOURCE,
    LEXICON_ZIP,
    MAX_SCORED_CHARS,
    compile_phrase_pattern,
    ensure_vader_lexicon,
    join_phrases,
    label_for_compound,
    load_domain_lexicon,
    parse_domain_lexicon,
    phrase_token,
    plain_vader_score,
    score_sentiment,
    truncate_for_scoring,
)

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def isolated_nltk(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep each test's nltk.data.path and 'already prepared' memo to itself."""
    monkeypatch.setattr(nltk.data, "path", list(nltk.data.path))
    monkeypatch.setattr(ss, "_prepared_dirs", set())

    def no_download(*args: object, **kwargs: object) -> None:
        raise AssertionError("nltk.download must not be needed")

    monkeypatch.setattr(nltk, "download", no_download)


# ---------------------------------------------------------------------------
# ensure_vader_lexicon
# ---------------------------------------------------------------------------


@pytest.mark.usefixtures("isolated_nltk")
def test_lexicon_prepared_in_tmp_dir_and_analyzer_works_offline(tmp_path: Path) -> None:
    from nltk.sentiment.vader import SentimentIntensityAnalyzer

    data_dir = ensure_vader_lexicon(tmp_path / "nltk_data")

    assert data_dir == (tmp_path / "nltk_data").resolve()
    with zipfile.ZipFile(data_dir / LEXICON_ZIP) as archive:
        assert archive.namelist() == [LEXICON_MEMBER]
        assert b"\t" in archive.read(LEXICON_MEMBER)
    assert str(data_dir) in nltk.data.path
    # NLTK resolves the resource to our copy, not to one elsewhere on the path.
    assert str(nltk.data.find(LEXICON_RESOURCE)).startswith(str(data_dir))

    analyzer = SentimentIntensityAnalyzer(lexicon_file=LEXICON_RESOURCE)
    assert analyzer.polarity_scores("This is great, thank you!")["compound"] > 0.5
    assert analyzer.polarity_scores("This is terrible and useless.")["compound"] < -0.5


@pytest.mark.usefixtures("isolated_nltk")
def test_ensure_is_idempotent_and_leaves_no_temp_files(tmp_path: Path) -> None:
    first = ensure_vader_lexicon(tmp_path)
    zip_path = first / LEXICON_ZIP
    mtime = zip_path.stat().st_mtime_ns

    assert ensure_vader_lexicon(tmp_path) == first
    # A fresh process (empty memo) finds the complete zip and does not rewrite it.
    ss._prepared_dirs.clear()
    assert ensure_vader_lexicon(tmp_path) == first
    assert zip_path.stat().st_mtime_ns == mtime
    assert nltk.data.path.count(str(first)) == 1
    assert sorted(p.name for p in zip_path.parent.iterdir()) == ["vader_lexicon.zip"]


@pytest.mark.usefixtures("isolated_nltk")
def test_ensure_replaces_a_truncated_zip(tmp_path: Path) -> None:
    zip_path = tmp_path / LEXICON_ZIP
    zip_path.parent.mkdir(parents=True)
    zip_path.write_bytes(b"PK\x03\x04 half a file")

    ensure_vader_lexicon(tmp_path)

    with zipfile.ZipFile(zip_path) as archive:
        assert LEXICON_MEMBER in archive.namelist()


@pytest.mark.usefixtures("isolated_nltk")
def test_default_dir_comes_from_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOC_NLTK_DATA", str(tmp_path / "from_env"))

    assert ensure_vader_lexicon() == (tmp_path / "from_env").resolve()
    assert (tmp_path / "from_env" / LEXICON_ZIP).is_file()


@pytest.mark.usefixtures("isolated_nltk")
def test_unwritable_default_falls_back_to_user_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A regular file where a directory should be: unwritable even for root.
    blocker = tmp_path / "blocker"
    blocker.write_text("not a directory")
    monkeypatch.setenv("VOC_NLTK_DATA", str(blocker / "nltk_data"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))

    data_dir = ensure_vader_lexicon()

    assert data_dir == (tmp_path / "home" / ".cache" / "voc" / "nltk_data").resolve()
    assert (data_dir / LEXICON_ZIP).is_file()
    assert str(data_dir) in nltk.data.path


@pytest.mark.usefixtures("isolated_nltk")
def test_explicit_unwritable_dir_raises(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("not a directory")

    with pytest.raises(OSError):
        ensure_vader_lexicon(blocker / "nltk_data")


def test_module_main_prepares_and_prints_dir(tmp_path: Path) -> None:
    env = {**os.environ, "VOC_NLTK_DATA": str(tmp_path / "cli")}

    result = subprocess.run(
        [sys.executable, "-m", "voc.transforms.score_sentiment"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )

    assert result.stdout.strip() == str((tmp_path / "cli").resolve())
    assert (tmp_path / "cli" / LEXICON_ZIP).is_file()


# ---------------------------------------------------------------------------
# Domain lexicon
# ---------------------------------------------------------------------------


def test_packaged_domain_lexicon_is_valid() -> None:
    words, phrases = load_domain_lexicon()

    assert {"transferred", "refund", "cancel", "sorted", "escalate"} <= set(words)
    assert {"on hold", "charged twice"} <= set(phrases)
    for valence in [*words.values(), *phrases.values()]:
        assert -4.0 <= valence <= 4.0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([1, 2], "mapping"),
        ({"words": {"refund": "bad"}}, "number"),
        ({"words": {"refund": 9}}, "outside"),
        ({"words": {"on hold": -1}}, "phrases"),
        ({"phrases": {"hold": -1}}, "words"),
        ({"idioms": {}}, "unknown"),
    ],
)
def test_parse_domain_lexicon_rejects_bad_entries(data: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_domain_lexicon(data)


def test_parse_domain_lexicon_normalises_keys() -> None:
    words, phrases = parse_domain_lexicon(
        {"words": {"Refund": -0.5}, "phrases": {"On   Hold": -1.5}}
    )
    assert words == {"refund": -0.5}
    assert phrases == {"on hold": -1.5}


def test_phrase_join_keeps_case_and_accepts_variants() -> None:
    pattern = compile_phrase_pattern(["on hold", "doesn't work", "above and beyond"])

    assert join_phrases("I was ON HOLD", pattern) == "I was ONHOLD"
    assert join_phrases("it doesn\u2019t work.", pattern) == "it doesntwork."
    assert join_phrases("above-and-beyond!", pattern) == "aboveandbeyond!"
    # Whole words only.
    assert join_phrases("won hold", pattern) == "won hold"
    assert phrase_token("doesn't work") == "doesntwork"


# ---------------------------------------------------------------------------
# Scoring
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "I was on hold for 40 minutes",
        "Got transferred three times",
        "I was charged twice for one order",
        "Still waiting for someone to answer",
        "The app doesn't work after the update",
        "Customer would like a refund",
    ],
)
def test_support_friction_scores_lower_than_plain_vader(text: str) -> None:
    assert score_sentiment(text).compound < plain_vader_score(text)
    assert score_sentiment(text).label == "negative"


@pytest.mark.parametrize(
    "text",
    [
        "Agent got it sorted in five minutes",
        "She went above and beyond",
        "The issue was resolved on the first call",
    ],
)
def test_support_resolution_scores_higher_than_plain_vader(text: str) -> None:
    assert score_sentiment(text).compound > plain_vader_score(text)
    assert score_sentiment(text).label == "positive"


def test_on_hold_example_from_the_brief() -> None:
    plain = plain_vader_score("I was on hold for 40 minutes")
    ours = score_sentiment("I was on hold for 40 minutes")
    assert plain == 0.0
    assert ours.compound < -0.05


def test_department_names_are_not_praise() -> None:
    text = "Contacted customer support about the invoice"
    assert plain_vader_score(text) > 0.05
    assert score_sentiment(text).label == "neutral"


def test_negation_still_applies_to_domain_words() -> None:
    assert score_sentiment("The issue is resolved").label == "positive"
    assert score_sentiment("The issue is not resolved").label == "negative"


def test_labels() -> None:
    assert score_sentiment("Great service, thank you so much!").label == "positive"
    assert score_sentiment("Terrible, rude and useless.").label == "negative"
    assert score_sentiment("The parcel arrived on Tuesday.").label == "neutral"


@pytest.mark.parametrize(
    ("compound", "label"),
    [
        (0.05, "positive"),
        (0.9, "positive"),
        (0.0499, "neutral"),
        (0.0, "neutral"),
        (-0.0499, "neutral"),
        (-0.05, "negative"),
        (-1.0, "negative"),
    ],
)
def test_label_thresholds(compound: float, label: str) -> None:
    assert label_for_compound(compound) == label


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_text_is_neutral(text: str) -> None:
    assert score_sentiment(text) == SentimentScore(0.0, "neutral", 1.0, "und")
    assert plain_vader_score(text) == 0.0


def test_huge_text_is_capped_and_fast() -> None:
    head = "The agent was wonderful and helpful. " * 200
    huge = head + "awful terrible disgusting " * 200_000  # about 5 MB

    started = time.perf_counter()
    score = score_sentiment(huge)
    elapsed = time.perf_counter() - started

    assert elapsed < 2.0
    # Only the head is scored, so the tail cannot drag the label down.
    assert score.label == "positive"
    assert score == score_sentiment(truncate_for_scoring(huge))


def test_truncate_cuts_at_word_boundary() -> None:
    text = "word " * 2_000
    cut = truncate_for_scoring(text)
    assert len(cut) <= MAX_SCORED_CHARS
    assert cut.endswith("word")
    assert truncate_for_scoring("short text") == "short text"
    assert len(truncate_for_scoring("x" * 10_000)) == MAX_SCORED_CHARS


def test_analyzers_built_once_across_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real_build = ss._build_analyzers

    def counting_build() -> object:
        calls.append(1)
        time.sleep(0.05)  # widen the race window
        return real_build()

    monkeypatch.setattr(ss, "_analyzers", None)
    monkeypatch.setattr(ss, "_build_analyzers", counting_build)
    barrier = threading.Barrier(8)
    results: list[SentimentScore] = []

    def worker() -> None:
        barrier.wait()
        results.append(score_sentiment("I was on hold for ages, useless"))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(calls) == 1
    assert len(results) == 8
    assert len(set(results)) == 1


@pytest.mark.parametrize("apostrophe", ["\u2019", "\u2018", "\u02bc"])
def test_negation_holds_however_the_apostrophe_is_typed(apostrophe: str) -> None:
    # Phone keyboards type U+2019; VADER's negation rules only know "n't" with '.
    typed = score_sentiment(f"The agent isn{apostrophe}t helpful")
    plain = score_sentiment("The agent isn't helpful")
    assert typed == plain
    assert plain.label == "negative"
