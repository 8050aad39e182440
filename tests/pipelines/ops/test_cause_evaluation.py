"""``voc eval causes`` figures on a taxonomy and texts written for the test, every
figure worked out by hand: coverage, per-cause precision/recall/F1, micro and macro,
sub-cause labels counted for their parent, unknown labels counted as misses,
confusions and the texts most often wrong."""

from __future__ import annotations

import json
import textwrap

import pytest

from voc.pipelines.ops.cause_evaluation import (
    MISSED_SHOWN,
    CauseReport,
    LabelledText,
    evaluate_causes,
    format_report,
    read_labelled,
)
from voc.pipelines.ops.text_files import TextFileError
from voc.transforms.taxonomy import UNCLASSIFIED, parse_taxonomy

TAXONOMY = parse_taxonomy(
    textwrap.dedent(
        """\
        version: 2
        name: tiny
        release: "1.0"
        departments:
          support_ops: Triage
          billing: Billing
          logistics: Logistics
          identity: Identity
        causes:
          - id: billing
            description: Wrong charges
            department: billing
            phrases: ["overcharged"]
            subcauses:
              - id: charged_twice
                description: Charged twice for one thing
                phrases: ["charged twice"]
          - id: delivery
            description: The order never arrived
            department: logistics
            phrases: ["never arrived"]
          - id: login
            description: Locked out of the account
            department: identity
            phrases: ["locked out"]
        """
    ),
    "t.yaml",
)


def row(text: str, *labels: str, where: str = "") -> LabelledText:
    return LabelledText(text, frozenset(labels), where)


# What the taxonomy finds in each text is in the comment; the figures below are
# counted from these by hand.
ROWS = [
    row("I was overcharged", "billing", where="f:1"),  # billing: right
    row("They charged twice for one thing", "charged_twice", where="f:2"),  # billing: right
    row("My parcel never arrived", "billing", where="f:3"),  # delivery: wrong
    row("Cannot sign in at all", "login", where="f:4"),  # nothing
    row("Hello there", where="f:5"),  # nothing, and no label: not scored
    row(  # billing and delivery; "typo_cause" is no cause of the taxonomy
        "It never arrived and I was overcharged", "delivery", "typo_cause", where="f:6"
    ),
    row("The parcel never arrived", where="f:7"),  # delivery, where nobody labelled one
]
#            tp  fp  fn
# billing     2   1   1   (f:1, f:2 | f:6 | f:3)
# delivery    1   2   0   (f:6 | f:3, f:7)
# login       0   0   1   (f:4), never predicted
# typo_cause  0   0   1   (f:6), unknown label counted as a miss


@pytest.fixture(scope="module")
def report() -> dict:
    return evaluate_causes(ROWS, TAXONOMY).to_dict()


def test_counts_and_coverage(report):
    assert report["texts"] == 7
    # f:1, f:2, f:3, f:4, f:6 have a label; f:4 alone got no cause: 4/5
    assert report["texts_with_cause"] == 5
    assert report["coverage"] == 0.8


def test_per_class_figures(report):
    assert report["per_class"] == {
        "billing": {
            "precision": 0.6667,
            "recall": 0.6667,
            "f1": 0.6667,
            "support": 3,
            "predicted": 3,
        },
        "delivery": {"precision": 0.3333, "recall": 1.0, "f1": 0.5, "support": 1, "predicted": 3},
        "login": {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1, "predicted": 0},
        "typo_cause": {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1, "predicted": 0},
    }


def test_micro_counts_every_decision_once(report):
    # tp 3, fp 3, fn 3
    assert (report["micro_precision"], report["micro_recall"], report["micro_f1"]) == (
        0.5,
        0.5,
        0.5,
    )


def test_macro_counts_every_cause_once_including_the_never_predicted(report):
    # precision (2/3 + 1/3 + 0 + 0) / 4, recall (2/3 + 1 + 0 + 0) / 4,
    # F1 (2/3 + 1/2 + 0 + 0) / 4: login and typo_cause count as zeros, not as absent
    assert report["macro_precision"] == pytest.approx(0.25, abs=1e-4)
    assert report["macro_recall"] == pytest.approx(5 / 12, abs=1e-4)
    assert report["macro_f1"] == pytest.approx(7 / 24, abs=1e-4)


def test_unknown_labels_are_named_and_counted(report):
    assert report["unknown_labels"] == {"typo_cause": 1}


def test_confusion_names_what_was_found_instead(report):
    assert report["confusion"] == {
        "billing": {"delivery": 1},
        "login": {UNCLASSIFIED: 1},
        "typo_cause": {"billing": 1},
    }


def test_missed_texts_most_wrong_first(report):
    # f:3 and f:6 have two wrong decisions each, f:4 and f:7 one; ties keep file order
    assert report["missed"] == [
        {
            "text": "My parcel never arrived",
            "where": "f:3",
            "labels": ["billing"],
            "predicted": ["delivery"],
        },
        {
            "text": "It never arrived and I was overcharged",
            "where": "f:6",
            "labels": ["delivery", "typo_cause"],
            "predicted": ["billing", "delivery"],
        },
        {
            "text": "Cannot sign in at all",
            "where": "f:4",
            "labels": ["login"],
            "predicted": [UNCLASSIFIED],
        },
        {
            "text": "The parcel never arrived",
            "where": "f:7",
            "labels": [],
            "predicted": ["delivery"],
        },
    ]


def test_json_keys_are_stable_and_serialisable(report):
    assert list(report) == [
        "taxonomy",
        "texts",
        "texts_with_cause",
        "coverage",
        "macro_precision",
        "macro_recall",
        "macro_f1",
        "micro_precision",
        "micro_recall",
        "micro_f1",
        "per_class",
        "confusion",
        "missed",
        "unknown_labels",
    ]
    assert report["taxonomy"] == TAXONOMY.label
    assert report["taxonomy"].startswith("tiny 1.0 (")
    assert json.loads(json.dumps(report)) == report


# --------------------------------------------------------------------------- mechanisms


def test_sub_cause_label_counts_for_its_parent():
    report = evaluate_causes([row("I was overcharged", "charged_twice")], TAXONOMY)
    assert dict(report.true_positive) == {"billing": 1}
    assert not report.false_positive
    assert not report.false_negative
    assert not report.unknown_labels


def test_parent_and_sub_cause_labels_on_one_text_are_one_gold_cause():
    report = evaluate_causes(
        [row("They charged twice for one thing", "billing", "charged_twice")], TAXONOMY
    )
    assert dict(report.true_positive) == {"billing": 1}
    assert report.to_dict()["per_class"]["billing"]["support"] == 1


def test_a_never_predicted_cause_has_precision_zero():
    figures = evaluate_causes([row("Cannot sign in", "login")], TAXONOMY).to_dict()
    assert figures["per_class"] == {
        "login": {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1, "predicted": 0}
    }
    assert figures["coverage"] == 0.0
    assert (figures["macro_f1"], figures["micro_f1"]) == (0.0, 0.0)


def test_a_cause_found_only_where_nobody_labelled_it_is_scored():
    figures = evaluate_causes(
        [row("I was locked out"), row("I was overcharged", "billing")], TAXONOMY
    ).to_dict()
    # login was predicted once and never labelled: precision 0, and it counts in macro
    assert figures["texts_with_cause"] == 1
    assert figures["per_class"]["login"] == {
        "precision": 0.0,
        "recall": 0.0,
        "f1": 0.0,
        "support": 0,
        "predicted": 1,
    }
    assert figures["macro_precision"] == 0.5
    assert figures["micro_precision"] == 0.5
    assert figures["micro_recall"] == 1.0
    assert figures["micro_f1"] == pytest.approx(2 / 3, abs=1e-4)


def test_unknown_label_is_a_miss_even_when_the_text_is_otherwise_right():
    report = evaluate_causes([row("I was overcharged", "billing", "biling")], TAXONOMY)
    figures = report.to_dict()
    assert dict(report.true_positive) == {"billing": 1}
    assert dict(report.false_negative) == {"biling": 1}
    assert figures["unknown_labels"] == {"biling": 1}
    assert figures["micro_recall"] == 0.5
    # nothing was found instead of it (the text's real cause was): no confusion row
    assert figures["confusion"] == {}


def test_several_rows_with_one_unknown_label_are_counted():
    rows = [row("x", "nope"), row("y", "nope"), row("z", "other")]
    assert evaluate_causes(rows, TAXONOMY).to_dict()["unknown_labels"] == {"nope": 2, "other": 1}


def test_a_perfect_taxonomy_scores_one():
    rows = [
        row("I was overcharged", "billing"),
        row("never arrived", "delivery"),
        row("locked out again", "login"),
        row("just saying thanks"),
    ]
    figures = evaluate_causes(rows, TAXONOMY).to_dict()
    assert figures["coverage"] == 1.0
    for key in ("macro_precision", "macro_recall", "macro_f1", "micro_f1"):
        assert figures[key] == 1.0
    assert figures["missed"] == []
    assert figures["confusion"] == {}


def test_no_rows_gives_zeros_not_an_error():
    report = evaluate_causes([], TAXONOMY)
    figures = report.to_dict()
    assert (figures["texts"], figures["texts_with_cause"], figures["coverage"]) == (0, 0, 0.0)
    assert (figures["macro_f1"], figures["micro_f1"], figures["per_class"]) == (0.0, 0.0, {})
    assert "coverage   0.000" in format_report(figures)


def test_only_the_first_missed_texts_are_shown_but_all_are_kept():
    rows = [row(f"text {n}", "login", where=f"f:{n}") for n in range(MISSED_SHOWN + 5)]
    report = evaluate_causes(rows, TAXONOMY)
    assert isinstance(report, CauseReport)
    assert len(report.missed) == MISSED_SHOWN + 5
    shown = report.to_dict()["missed"]
    assert [item["where"] for item in shown] == [f"f:{n}" for n in range(MISSED_SHOWN)]
    assert report.to_dict()["confusion"] == {"login": {UNCLASSIFIED: MISSED_SHOWN + 5}}


def test_rows_can_be_any_iterable():
    report = evaluate_causes((r for r in ROWS), TAXONOMY)
    assert report.texts == 7


# --------------------------------------------------------------------------- the text report


def test_format_report(report):
    assert format_report(report).splitlines() == [
        f"taxonomy   {TAXONOMY.label}",
        "texts      7 (5 with a cause)",
        "coverage   0.800",
        "macro      precision 0.250  recall 0.417  F1 0.292",
        "micro      precision 0.500  recall 0.500  F1 0.500",
        "",
        "cause                      prec recall     F1  support predicted",
        "billing                    0.67   0.67   0.67        3         3",
        "delivery                   0.33   1.00   0.50        1         3",
        "login                      0.00   0.00   0.00        1         0",
        "typo_cause                 0.00   0.00   0.00        1         0",
        "",
        "labels not in the taxonomy (counted as misses): typo_cause (1)",
        "",
        "missed causes, and what was found instead:",
        "  billing                -> delivery 1",
        "  login                  -> unclassified 1",
        "  typo_cause             -> billing 1",
        "",
        "texts most often wrong:",
        "  [billing] got [delivery] f:3: My parcel never arrived",
        "  [delivery, typo_cause] got [billing, delivery] f:6: "
        "It never arrived and I was overcharged",
        "  [login] got [unclassified] f:4: Cannot sign in at all",
        "  [-] got [delivery] f:7: The parcel never arrived",
    ]


def test_format_report_cuts_long_texts():
    long_text = "overcharged " + "x" * 300
    figures = evaluate_causes([row(long_text, "delivery", where="f:1")], TAXONOMY).to_dict()
    last = format_report(figures).splitlines()[-1]
    assert last == f"  [delivery] got [billing] f:1: {long_text[:140]}"


def test_format_report_without_problems_has_no_problem_sections():
    text = format_report(evaluate_causes([row("I was overcharged", "billing")], TAXONOMY).to_dict())
    assert "labels not in the taxonomy" not in text
    assert "missed causes" not in text
    assert "texts most often wrong" not in text
    assert (
        text.splitlines()[-1] == "billing                    1.00   1.00   1.00        1         1"
    )


# --------------------------------------------------------------------------- reading


def test_read_labelled_jsonl(tmp_path):
    path = tmp_path / "labelled.jsonl"
    path.write_text(
        '{"text": "I was overcharged", "labels": ["billing"]}\n'
        "\n"
        '{"text": "fine", "labels": []}\n'
        '{"text": "both", "labels": ["billing", "delivery"]}\n',
        encoding="utf-8",
    )
    assert list(read_labelled(str(path))) == [
        LabelledText("I was overcharged", frozenset({"billing"}), f"{path}:1"),
        LabelledText("fine", frozenset(), f"{path}:3"),
        LabelledText("both", frozenset({"billing", "delivery"}), f"{path}:4"),
    ]


def test_read_labelled_csv(tmp_path):
    path = tmp_path / "labelled.csv"
    path.write_text("text,label\nlate,delivery|billing\nfine,\n", encoding="utf-8")
    assert list(read_labelled(str(path))) == [
        LabelledText("late", frozenset({"delivery", "billing"}), f"{path}:2"),
        LabelledText("fine", frozenset(), f"{path}:3"),
    ]


def test_read_labelled_needs_labels(tmp_path):
    path = tmp_path / "labelled.jsonl"
    path.write_text('{"text": "a", "labels": []}\n{"text": "b"}\n', encoding="utf-8")
    with pytest.raises(TextFileError) as caught:
        list(read_labelled(str(path)))
    assert str(caught.value) == f"{path}:2: no 'labels' or 'label' field"


def test_evaluate_a_file_end_to_end(tmp_path):
    path = tmp_path / "labelled.tsv"
    path.write_text(
        "text\tlabels\nI was overcharged\tbilling\nparcel never arrived\tbilling;delivery\n",
        encoding="utf-8",
    )
    figures = evaluate_causes(read_labelled(str(path)), TAXONOMY).to_dict()
    # billing tp 1 fn 1, delivery tp 1
    assert figures["micro_recall"] == pytest.approx(2 / 3, abs=1e-4)
    assert figures["micro_precision"] == 1.0
    assert figures["missed"][0]["where"] == f"{path}:3"
