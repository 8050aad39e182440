"""``voc eval sentiment``: figures worked out by hand from confusion matrices, label
parsing and its errors, binary vs 3-class, the ``*_labelled.txt`` directories, the
report and its JSON, and the command line run through voc's own entry point, on real
files written for the test (never a real data set)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.pipelines.cli_results import assert_one_line_error, run_in_process
from voc.pipelines.ops.learn_model import read_history
from voc.pipelines.ops.sentiment_evaluation import (
    BINARY,
    THREE_CLASS,
    UNSCORED,
    LabelledSentiment,
    confusion_matrix,
    detect_mode,
    evaluate_sentiment,
    figures,
    format_report,
    parse_label,
    parse_labelled_lines,
    predict,
    read_sentiment_data,
    scorer_figures,
)
from voc.pipelines.ops.text_files import TextFileError
from voc.transforms.score_sentiment import label_for_compound

CLASSES = ("negative", "neutral", "positive")
FIXTURE = Path(__file__).resolve().parents[2] / "data" / "sentiment_eval" / "three_class.jsonl"
FIGURE_KEYS = {"n", "accuracy", "macro_f1", "per_class", "confusion", "by_kind"}

# ------------------------------------------------------------------------- figures


def test_figures_by_hand_with_a_class_never_predicted_and_unscored() -> None:
    gold = ["negative"] * 4 + ["neutral"] * 2 + ["positive"] * 4
    predicted = [
        *("negative", "negative", "positive", UNSCORED),
        *("negative", "positive"),
        *("positive", "positive", "positive", "negative"),
    ]
    confusion = confusion_matrix(gold, predicted, CLASSES)
    assert confusion == {
        "negative": {"negative": 2, "neutral": 0, "positive": 1, UNSCORED: 1},
        "neutral": {"negative": 1, "neutral": 0, "positive": 1, UNSCORED: 0},
        "positive": {"negative": 1, "neutral": 0, "positive": 3, UNSCORED: 0},
    }
    result = figures(confusion, CLASSES)
    assert result["n"] == 10
    assert result["accuracy"] == 0.5  # 2 + 0 + 3 right; the unscored text is wrong
    assert result["per_class"] == {
        # predicted negative 4 times (2 right), 4 gold negatives
        "negative": {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 4},
        # never predicted: precision 0, not undefined
        "neutral": {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 2},
        # predicted positive 5 times (3 right), 4 gold: F1 = 2 * .6 * .75 / 1.35
        "positive": {"precision": 0.6, "recall": 0.75, "f1": 0.6667, "support": 4},
    }
    assert result["macro_f1"] == pytest.approx((0.5 + 0.0 + 2 / 3) / 3, abs=1e-4)


def test_a_class_without_gold_examples_is_not_in_macro_f1() -> None:
    gold = ["negative", "negative", "neutral", "neutral"]
    predicted = ["negative", "positive", "neutral", "positive"]
    result = figures(confusion_matrix(gold, predicted, CLASSES), CLASSES)
    assert result["accuracy"] == 0.5
    assert result["per_class"]["negative"] == {
        "precision": 1.0,
        "recall": 0.5,
        "f1": 0.6667,
        "support": 2,
    }
    # predicted twice, never right, nobody labelled it
    assert result["per_class"]["positive"] == {
        "precision": 0.0,
        "recall": 0.0,
        "f1": 0.0,
        "support": 0,
    }
    # the mean of negative's and neutral's F1 (2/3 each); with positive it would be 4/9
    assert result["macro_f1"] == pytest.approx(2 / 3, abs=1e-4)


def test_a_gold_label_outside_the_classes_is_refused() -> None:
    with pytest.raises(ValueError, match="'neutral'"):
        confusion_matrix(["neutral"], ["negative"], ("negative", "positive"))


def test_binary_and_three_class_predictions() -> None:
    compounds = [0.8, -0.6, 0.0, 0.03, -0.02]
    gold = ["positive", "negative", "positive", "negative", "negative"]
    labels = [label_for_compound(compound) for compound in compounds]

    # binary: 0.0 counts as negative (wrong here), 0.03 as positive (wrong), -0.02 right
    binary = [predict(c, label, BINARY) for c, label in zip(compounds, labels, strict=True)]
    assert binary == ["positive", "negative", "negative", "positive", "negative"]
    # 3-class: the scorer's own label, so the three near-zero scores are neutral
    three = [predict(c, label, THREE_CLASS) for c, label in zip(compounds, labels, strict=True)]
    assert three == ["positive", "negative", "neutral", "neutral", "neutral"]
    assert figures(confusion_matrix(gold, binary, CLASSES[::2]), CLASSES[::2])["accuracy"] == 0.6
    assert figures(confusion_matrix(gold, three, CLASSES), CLASSES)["accuracy"] == 0.4
    # unscored is a prediction of its own in both modes, whatever the compound
    assert predict(0.9, UNSCORED, BINARY) == predict(0.9, UNSCORED, THREE_CLASS) == UNSCORED


def test_binary_is_detected_only_for_exactly_negative_and_positive() -> None:
    assert detect_mode(["positive", "negative", "positive"]) == (BINARY, ("negative", "positive"))
    assert detect_mode(["positive", "negative", "neutral"]) == (THREE_CLASS, CLASSES)
    assert detect_mode(["neutral", "positive"]) == (THREE_CLASS, CLASSES)
    assert detect_mode(["positive"]) == (THREE_CLASS, CLASSES)


def test_accuracy_and_macro_f1_per_kind() -> None:
    gold = ["negative", "positive", "negative", "neutral"]
    predicted = ["negative", "negative", "negative", "positive"]
    kinds = ["survey", "survey", "chat", ""]
    result = scorer_figures(gold, predicted, kinds, CLASSES)
    assert result["by_kind"] == {
        "(no kind)": {"n": 1, "accuracy": 0.0, "macro_f1": 0.0},
        "chat": {"n": 1, "accuracy": 1.0, "macro_f1": 1.0},
        # negative: P 1/2, R 1, F1 2/3; positive: never predicted, F1 0
        "survey": {"n": 2, "accuracy": 0.5, "macro_f1": pytest.approx(1 / 3, abs=1e-4)},
    }
    assert scorer_figures(gold, predicted, ["", "", "", ""], CLASSES)["by_kind"] == {}


# ------------------------------------------------------------------------- labels


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("negative", "negative"),
        (" Neutral ", "neutral"),
        ("POSITIVE", "positive"),
        ("neg", "negative"),
        ("Neu", "neutral"),
        ("pos", "positive"),
        (-1, "negative"),
        ("-1", "negative"),
        (0, "neutral"),
        ("1", "positive"),
    ],
)
def test_parse_label(value, expected) -> None:
    assert parse_label(value, "f:1") == expected


def test_parse_label_binary_numbers() -> None:
    assert parse_label("0", "f:1", binary_numbers=True) == "negative"
    assert parse_label(1, "f:1", binary_numbers=True) == "positive"
    with pytest.raises(TextFileError, match="f:1"):
        parse_label("-1", "f:1", binary_numbers=True)


@pytest.mark.parametrize("value", ["2", "good", "", "+", True, 1.0, ["negative"], None])
def test_parse_label_rejects(value) -> None:
    with pytest.raises(TextFileError, match=r"^data\.jsonl:7: "):
        parse_label(value, "data.jsonl:7")


def test_a_file_with_names_numbers_and_kinds(tmp_path: Path) -> None:
    data = tmp_path / "labelled.csv"
    data.write_text(
        "text,label,kind\n"
        '"Great, thanks",Positive,survey\n'
        "Where is my parcel?,0,chat\n"
        "Cut off again,-1,\n"
        "Fine,neu,agent_note\n",
        encoding="utf-8",
    )
    examples = read_sentiment_data(data)
    assert examples == [
        LabelledSentiment("Great, thanks", "positive", "survey", f"{data}:2"),
        LabelledSentiment("Where is my parcel?", "neutral", "chat", f"{data}:3"),
        LabelledSentiment("Cut off again", "negative", "", f"{data}:4"),
        LabelledSentiment("Fine", "neutral", "agent_note", f"{data}:5"),
    ]


def test_a_file_of_only_0_and_1_is_a_binary_sentence_set(tmp_path: Path) -> None:
    data = tmp_path / "sentences.jsonl"
    data.write_text('{"text": "good", "label": 1}\n{"text": "bad", "label": "0"}\n')
    assert [e.label for e in read_sentiment_data(data)] == ["positive", "negative"]
    # a -1 anywhere makes the numbers -1/0/1
    data.write_text(data.read_text() + '{"text": "awful", "label": -1}\n')
    assert [e.label for e in read_sentiment_data(data)] == ["positive", "neutral", "negative"]


@pytest.mark.parametrize(
    ("content", "line", "fragment"),
    [
        ('{"text": "ok", "label": "pos"}\n{"text": "hm", "label": "mixed"}\n', 2, "'mixed'"),
        ('{"text": "ok", "label": "pos"}\n\n{"text": "hm"}\n', 3, "no label"),
        ('{"text": "ok", "label": 2}\n', 1, "label 2"),
    ],
)
def test_label_errors_name_file_and_line(tmp_path: Path, content, line, fragment) -> None:
    data = tmp_path / "bad.jsonl"
    data.write_text(content, encoding="utf-8")
    with pytest.raises(TextFileError, match=rf"^{data}:{line}: .*{fragment}"):
        read_sentiment_data(data)


def test_read_history_gives_the_learner_numbers(tmp_path: Path) -> None:
    history = tmp_path / "history.csv"
    history.write_text(
        "text,csat,nps,ces,label,agent\nslow refund,1,, ,,a1\nthanks!,5,10,2,,a2\nhm,,,,neutral,\n"
    )
    assert [
        {key: value for key, value in record.items() if key != "_where"}
        for record in read_history(history)
    ] == [
        {"text": "slow refund", "csat": 1},
        {"text": "thanks!", "csat": 5, "nps": 10, "ces": 2},
        {"text": "hm", "label": "neutral"},
    ]
    assert next(read_history(history))["_where"] == f"{history}:2"


# ---------------------------------------------------------------- sentence sets


@pytest.fixture
def sentence_dir(tmp_path: Path) -> Path:
    (tmp_path / "shop_labelled.txt").write_text(
        "Great phone, I love it!\t1\n"
        "Terrible battery, it broke after a day.\t0\n"
        "Kept on hold for an hour, then they said please call back.\t0\n"
        "\n",
        encoding="utf-8",
    )
    (tmp_path / "cafe_labelled.txt").write_text(
        "The coffee was excellent and the staff friendly.\t1\n"
        "The table is by the window.\t1",  # neutral to both scorers; no final newline
        encoding="utf-8",
    )
    (tmp_path / "readme.txt").write_text("not a data file\t1\n", encoding="utf-8")
    return tmp_path


def test_parse_labelled_lines() -> None:
    lines = ["Good\tstuff\t1", "  Bad  \t0\r\n", "", "   ", "So so\tNeutral"]
    assert parse_labelled_lines(lines, "x_labelled.txt", "x") == [
        LabelledSentiment("Good\tstuff", "positive", "x", "x_labelled.txt:1"),
        LabelledSentiment("Bad", "negative", "x", "x_labelled.txt:2"),
        LabelledSentiment("So so", "neutral", "x", "x_labelled.txt:5"),
    ]


@pytest.mark.parametrize("line", ["no tab here", "sentence\t2", "sentence\tyes", "sentence\t-1"])
def test_parse_labelled_lines_rejects_malformed(line: str) -> None:
    with pytest.raises(TextFileError, match=r"^x_labelled\.txt:2: "):
        parse_labelled_lines(["fine\t1", line], "x_labelled.txt")


def test_the_sentence_directories_still_work(sentence_dir: Path) -> None:
    examples = read_sentiment_data(sentence_dir)
    assert [e.kind for e in examples] == ["cafe", "cafe", "shop", "shop", "shop"]
    report = evaluate_sentiment(examples)

    assert (report["mode"], report["classes"], report["n"]) == (
        BINARY,
        ["negative", "positive"],
        5,
    )
    # Plain VADER reads "please" as positive in a hold complaint; voc's lexicon does not.
    assert report["by_kind"]["shop"]["accuracy"] == 1.0
    assert report["baseline"]["by_kind"]["shop"]["accuracy"] == pytest.approx(2 / 3, abs=1e-4)
    # The neutral sentence scores 0, which the binary rule counts as negative: wrong here.
    assert report["by_kind"]["cafe"]["accuracy"] == 0.5
    assert report["baseline"]["by_kind"]["cafe"]["accuracy"] == 0.5
    assert report["accuracy"] == 0.8
    assert report["baseline"]["accuracy"] == 0.6
    assert report["confusion"]["positive"] == {"negative": 1, "positive": 2, UNSCORED: 0}
    assert report["baseline"]["confusion"]["negative"] == {
        "negative": 1,
        "positive": 1,
        UNSCORED: 0,
    }


def test_report_is_aligned_and_keeps_speed_out(sentence_dir: Path) -> None:
    report = format_report(evaluate_sentiment(read_sentiment_data(sentence_dir)))
    lines = report.splitlines()
    assert lines[0] == "mode    binary (negative, positive)"
    assert "compound > 0 counts as positive" in report
    header = next(i for i, line in enumerate(lines) if "plain VADER" in line)
    table = lines[header : lines.index("", header)]
    assert table[0].split() == ["plain", "VADER", "voc"]
    assert [line.split()[0] for line in table[2:]] == [
        "accuracy",
        "macro-F1",
        *["cafe"] * 2,
        *["shop"] * 2,
    ]
    assert table[2].split() == ["accuracy", "0.600", "0.800"]
    assert len({len(line) for line in table}) == 1  # every row the same width
    assert "texts/s" not in report and "speed" not in report
    confusion = lines[lines.index("confusion (rows: gold label, columns: predicted)") + 1 :]
    assert confusion[0].split() == ["scorer", "gold", "negative", "positive", "unscored"]
    assert confusion[2].split() == ["plain", "VADER", "negative", "1", "1", "0"]


# ------------------------------------------------------------------ command line


@pytest.fixture
def run_voc(capsys):
    return lambda *args: run_in_process(capsys, "eval", "sentiment", *args)


def test_json_has_stable_keys_for_every_scorer(run_voc) -> None:
    result = run_voc("--data", str(FIXTURE), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert set(report) == {"classes", "mode", "baseline", *FIGURE_KEYS}
    assert set(report["baseline"]) == FIGURE_KEYS
    assert (report["mode"], report["classes"], report["n"]) == (THREE_CLASS, list(CLASSES), 24)
    for figs in (report, report["baseline"]):
        assert {cls: per["support"] for cls, per in figs["per_class"].items()} == {
            "negative": 12,
            "neutral": 6,
            "positive": 6,
        }
        for per in figs["per_class"].values():
            assert set(per) == {"precision", "recall", "f1", "support"}
        assert set(figs["confusion"]) == set(CLASSES)
        assert sum(sum(row.values()) for row in figs["confusion"].values()) == 24
        right = sum(figs["confusion"][cls][cls] for cls in CLASSES)
        assert figs["accuracy"] == pytest.approx(right / 24, abs=1e-4)
        assert set(figs["by_kind"]) == {"agent_note", "chat", "survey"}
        assert sum(kind["n"] for kind in figs["by_kind"].values()) == 24


def test_text_report_on_the_fixture(run_voc) -> None:
    result = run_voc("--data", str(FIXTURE))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("mode    3-class (negative, neutral, positive)\ntexts   24\n")
    assert "survey (12) macro-F1" in result.stdout
    assert "voc+model" not in result.stdout


def test_command_line_errors_are_one_line_exit_2(run_voc, tmp_path: Path) -> None:
    assert_one_line_error(run_voc("--data", str(tmp_path / "nope.jsonl")), "no such file")
    assert_one_line_error(run_voc("--data", str(tmp_path)), "no *_labelled.txt files")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n", encoding="utf-8")
    assert_one_line_error(run_voc("--data", str(empty)), "no texts")
    bad = tmp_path / "bad.tsv"
    bad.write_text("text\tlabel\nfine\tpositive\nmeh\tso-so\n", encoding="utf-8")
    assert_one_line_error(run_voc("--data", str(bad)), f"{bad}:3:", "'so-so'")
    nolabel = tmp_path / "causes.jsonl"
    nolabel.write_text('{"text": "charged twice", "labels": ["billing_error"]}\n')
    assert_one_line_error(run_voc("--data", str(nolabel)), f"{nolabel}:1:", "no label")
    assert_one_line_error(run_voc("--data", str(FIXTURE), "--bogus"), "--bogus")
    assert_one_line_error(run_voc("--data", str(FIXTURE), "--model", "a", "--history", "b"))
    assert_one_line_error(
        run_voc("--data", str(FIXTURE), "--model", str(tmp_path / "m.json")), "--model", "no such"
    )
    assert_one_line_error(
        run_voc("--data", str(FIXTURE), "--history", str(tmp_path / "h.jsonl")), "--history"
    )
    (tmp_path / "x_labelled.txt").write_text("good\t1\nbad\tmaybe\n", encoding="utf-8")
    assert_one_line_error(run_voc("--data", str(tmp_path)), "x_labelled.txt:2:", "'maybe'")


# ------------------------------------------------------------- with a learned model
# These use voc.transforms.learned_model and voc.pipelines.ops.learn_model for real.


def write_history(path: Path, per_class: int = 64) -> Path:
    """A history export with enough comments per class for the learner's minimum."""
    words = {
        5: (
            ["great", "brilliant", "lovely", "quick", "helpful", "friendly", "superb", "kind"],
            ["service", "agent", "help", "support", "team", "answer", "fix", "refund"],
        ),
        3: (
            ["question", "asked", "about", "checking", "routine", "update", "order", "address"],
            ["today", "monday", "later", "tomorrow", "again", "status", "details", "number"],
        ),
        1: (
            ["awful", "slow", "rude", "useless", "terrible", "broken", "late", "wrong"],
            ["service", "agent", "delivery", "refund", "bill", "router", "app", "parcel"],
        ),
    }
    lines = []
    for csat, (first, second) in words.items():
        combos = [f"{a} {b}" for a in first for b in second][:per_class]
        lines += [json.dumps({"text": text, "csat": csat}) for text in combos]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_history_learns_a_model_and_reports_it_beside_the_rules(run_voc, tmp_path: Path) -> None:
    history = write_history(tmp_path / "history.jsonl")
    result = run_voc("--data", str(FIXTURE), "--history", str(history), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert set(report["model"]) == FIGURE_KEYS | {"model_version"}
    assert report["model"]["n"] == 24 and report["model"]["model_version"]
    text = run_voc("--data", str(FIXTURE), "--history", str(history))
    assert text.stdout.splitlines()[2].startswith("model   ")
    assert "voc+model" in text.stdout


def test_model_file_is_scored_and_a_bad_one_refused(run_voc, tmp_path: Path) -> None:
    from voc.pipelines.ops.learn_model import learn_from_history, save_model

    model = learn_from_history(read_history(write_history(tmp_path / "history.jsonl")))
    path = tmp_path / "model.json"
    save_model(model, path)
    result = run_voc("--data", str(FIXTURE), "--model", str(path), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["model"]["model_version"] == model.version

    tampered = tmp_path / "tampered.json"
    tampered.write_text("not json at all", encoding="utf-8")
    assert_one_line_error(run_voc("--data", str(FIXTURE), "--model", str(tampered)), "--model")


def test_too_little_history_is_one_line(run_voc, tmp_path: Path) -> None:
    history = write_history(tmp_path / "history.jsonl", per_class=3)
    assert_one_line_error(run_voc("--data", str(FIXTURE), "--history", str(history)), "--history")
