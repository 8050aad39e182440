"""The matcher's mechanisms, each on a small taxonomy written for the test.

What the shipped packs find on real-looking text is measured on labelled sets in
test_cause_packs.py; here every mechanism of the rule language is pinned down on its
own: roots, fillers, concepts, near, numbers, negation, exclusion, sub-causes,
evidence spans, confidence, multi-label order and signals.
"""

from __future__ import annotations

import pickle
import textwrap

import pytest

from voc.transforms.match_root_causes import find_hits, match_root_causes
from voc.transforms.records import CauseMatch
from voc.transforms.taxonomy import (
    TRIAGE_DEPARTMENT,
    UNCLASSIFIED,
    Taxonomy,
    load_taxonomy,
    parse_taxonomy,
)

MINI = textwrap.dedent(
    """
    version: 2
    name: mini
    release: "2.1"
    departments:
      support_ops: Triage
      billing: Billing
      logistics: Logistics
    concepts:
      order: [order, parcel, package, "the thing i bought"]
      wait: [hold, queue, "on the phone"]
      late_word: [late, delayed]
    abbreviations:
      parcl: parcel
    causes:
      - id: billing_error
        description: Wrong charges
        department: billing
        phrases: ["overcharged"]
        exclude: ["not a billing error"]
        subcauses:
          - id: charged_twice
            description: Twice
            phrases: ["charged twice", "double charged"]
            numbers: ["times >= 2 near [charged, billed]"]
          - id: wrong_amount
            description: Amount
            near:
              - [[charged, billed], [wrong, incorrect], 3]
      - id: delivery_delay
        description: Late
        department: logistics
        phrases: ["{order} never arrived", "{order} {not} arrived"]
        near:
          - [{order}, "{late_word}", 4]
        exclude: ["arrived early"]
      - id: long_hold
        description: Waiting
        department: support_ops
        numbers: ["duration >= 30 min and < 1 day near {wait}"]
        signals: {hold_seconds_gte: 600}
      - id: rude_staff
        description: Rude
        department: support_ops
        phrases: [{phrase: "no manners", negation: ignore}, "rude"]
    """
)


@pytest.fixture(scope="module")
def mini() -> Taxonomy:
    return parse_taxonomy(MINI, "mini.yaml")


def ids(text: str, taxonomy: Taxonomy, signals=None) -> list[str]:
    return [match.cause_id for match in match_root_causes(text, taxonomy, signals)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # roots: inflections are one word
        ("My packages never arrived", ["delivery_delay"]),
        ("the parcel is DELAYED", ["delivery_delay"]),
        # fillers between the words of a phrase
        ("my parcel has still never arrived!!", ["delivery_delay"]),
        ("they charged me twice", ["billing_error"]),
        # a concept member of several words
        ("the thing i bought never arrived", ["delivery_delay"]),
        # {not} covers every negation, and "didn't" is read "did not"
        ("order didn't arrive", ["delivery_delay"]),
        ("the package hasnt arrived", ["delivery_delay"]),
        # the pack's abbreviation table is applied before matching
        ("parcl never arrived", ["delivery_delay"]),
        # hashtags are words
        ("#DoubleCharged again", ["billing_error"]),
        # near, either order, within the window
        ("late again, my order", ["delivery_delay"]),
        ("order is now five days very very late", []),  # six words apart
        # a match never crosses a sentence
        ("I want my order. Never arrived is what the app said about the last one", []),
        ("Nothing to complain about.", []),
        ("", []),
    ],
)
def test_phrases_concepts_and_near(mini: Taxonomy, text: str, expected: list[str]) -> None:
    assert [cause for cause in ids(text, mini) if cause != UNCLASSIFIED] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I was not charged twice", []),
        ("no problem, nobody charged twice", []),
        ("wasn't double charged but the parcel was late", ["delivery_delay"]),
        # a negation ends at a clause break or a clause word
        ("not happy, charged twice", ["billing_error"]),
        ("no refund yet because they charged me twice", ["billing_error"]),
        # the rule's own negation word is not a negation of it
        ("parcel never arrived", ["delivery_delay"]),
        # negation: ignore
        ("the agent had no manners", ["rude_staff"]),
        ("not rude at all", []),
    ],
)
def test_negation_scope(mini: Taxonomy, text: str, expected: list[str]) -> None:
    assert [cause for cause in ids(text, mini) if cause != UNCLASSIFIED] == expected


def test_vetoed_hits_say_why(mini: Taxonomy) -> None:
    hits = find_hits("I was not charged twice, the parcel arrived early but late", mini)
    reasons = {hit.rule.id: hit.vetoed for hit in hits}
    assert reasons["charged_twice/phrase/1"] == "negated"
    assert reasons["delivery_delay/near/1"] == "excluded by 'arrived early'"


def test_exclusion_is_itself_negatable(mini: Taxonomy) -> None:
    assert ids("the parcel never arrived early, it was late", mini) == ["delivery_delay"]


def test_excluded_parent_vetoes_its_sub_causes(mini: Taxonomy) -> None:
    assert ids("charged twice? no, not a billing error after all", mini) == [UNCLASSIFIED]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("on hold for 45 minutes", ["long_hold"]),
        ("45min in the queue", ["long_hold"]),
        ("on the phone for an hour and a half", ["long_hold"]),
        ("on hold for 10 minutes", []),
        ("the queue at the depot took 3 days", []),  # a day or more is not a hold
        ("sat 2hrs, then gave up", []),  # no wait word near
        ("you may be on hold for up to 45 minutes", []),  # a limit, not a wait
        ("answer the phone within 45 minutes please", []),
        ("billed 3 times for one order", ["billing_error"]),
    ],
)
def test_number_rules(mini: Taxonomy, text: str, expected: list[str]) -> None:
    assert [cause for cause in ids(text, mini) if cause != UNCLASSIFIED] == expected


def test_sub_cause_fires_its_parent_once_with_the_strongest_sub(mini: Taxonomy) -> None:
    (match,) = match_root_causes("charged twice and charged the wrong amount", mini)
    assert match.cause_id == "billing_error"
    assert match.department == "billing"  # a sub-cause takes its parent's department
    assert match.sub_cause_id == "charged_twice"  # phrase 0.9 beats near 0.8
    rules = [span.rule_id for span in match.spans]
    assert rules[0] == "charged_twice/phrase/1"
    # "twice" is also a count, so the number rule fires too
    assert set(rules) == {
        "charged_twice/phrase/1",
        "charged_twice/number/1",
        "wrong_amount/near/1",
    }
    (plain,) = match_root_causes("overcharged", mini)
    assert plain.sub_cause_id == ""


def test_evidence_spans_slice_the_stored_text(mini: Taxonomy) -> None:
    text = "Hi \u2014 my \u201cparcel\u201d never arrived, and they CHARGED me twice!"
    matches = match_root_causes(text, mini)
    assert [m.cause_id for m in matches] == ["billing_error", "delivery_delay"]  # file order
    for match in matches:
        for span in match.spans:
            assert text[span.start : span.end] == span.text
    assert matches[0].evidence == "CHARGED me twice"
    assert matches[1].spans[0].text == "parcel\u201d never arrived"


def test_confidence_combines_rules_as_independent_evidence(mini: Taxonomy) -> None:
    (one,) = match_root_causes("the parcel is late", mini)
    assert one.confidence == pytest.approx(0.8)
    (two,) = match_root_causes("parcel never arrived and it is late", mini)
    # phrase/1 (0.9), phrase/2 (0.9) and near/1 (0.8): 1 - 0.1 * 0.1 * 0.2, capped
    assert two.confidence == pytest.approx(0.99)


def test_signals_from_note_numbers(mini: Taxonomy) -> None:
    matches = match_root_causes("Cust called re pricing.", mini, {"hold_seconds": 900})
    assert [(m.cause_id, m.evidence) for m in matches] == [("long_hold", "hold_seconds=900")]
    assert matches[0].spans[0].start == -1
    assert ids("x", mini, {"hold_seconds": 599}) == [UNCLASSIFIED]
    assert ids("x", mini, {"hold_seconds": True}) == [UNCLASSIFIED]  # a bool is no number
    assert ids("x", mini, {"hold_seconds": None}) == [UNCLASSIFIED]


def test_unclassified_routes_to_triage(mini: Taxonomy) -> None:
    assert match_root_causes("Thanks!", mini) == [CauseMatch(UNCLASSIFIED, TRIAGE_DEPARTMENT, "")]
    assert mini.department_for(UNCLASSIFIED) == TRIAGE_DEPARTMENT
    assert mini.department_for("charged_twice") == "billing"
    with pytest.raises(KeyError):
        mini.department_for("no_such_cause")


def test_taxonomy_names_its_release_and_content(mini: Taxonomy) -> None:
    assert (mini.name, mini.release) == ("mini", "2.1")
    assert len(mini.content_hash) == 12
    assert parse_taxonomy(MINI, "again.yaml").content_hash == mini.content_hash
    edited = parse_taxonomy(MINI.replace('"overcharged"', '"over charged"'), "e.yaml")
    assert edited.content_hash != mini.content_hash


def test_taxonomy_pickles_for_workers(mini: Taxonomy) -> None:
    copy = pickle.loads(pickle.dumps(mini))
    text = "parcel never arrived and I was charged twice"
    assert match_root_causes(text, copy) == match_root_causes(text, mini)


def test_regex_escape_hatch() -> None:
    taxonomy = parse_taxonomy(
        MINI.replace('phrases: ["overcharged"]', "regex: ['\\binv-\\d{4}\\b']"), "r.yaml"
    )
    (match,) = match_root_causes("see INV-2291 please", taxonomy)
    assert (match.cause_id, match.spans[0].text) == ("billing_error", "INV-2291")
    assert match.rule_id == "billing_error/regex/1"


def test_version_1_regex_files_still_work() -> None:
    legacy = textwrap.dedent(
        """
        version: 1
        departments: {support_ops: Triage, billing: Billing}
        causes:
          - id: billing_error
            description: Wrong charges
            department: billing
            patterns: ['\\bcharged twice\\b']
        """
    )
    taxonomy = parse_taxonomy(legacy, "legacy.yaml")
    assert ids("I was charged twice", taxonomy) == ["billing_error"]
    assert taxonomy.version == 1


def test_default_is_the_generic_pack() -> None:
    assert load_taxonomy().name == "generic"
    assert load_taxonomy().cause_ids == load_taxonomy(pack="generic").cause_ids
