"""Reading taxonomy files: every problem one line naming file, line and field;
``extends`` with drop, rename and merge; the shipped packs."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from voc.transforms.match_root_causes import match_root_causes
from voc.transforms.taxonomy import (
    TaxonomyError,
    available_packs,
    check_taxonomy,
    load_taxonomy,
    parse_taxonomy,
)

VALID = textwrap.dedent(
    """\
    version: 2
    name: shop
    departments:
      support_ops: Triage
      billing: Billing
    concepts:
      charge: [charged, billed]
    causes:
      - id: billing_error
        description: Wrong charges
        department: billing
        phrases: ["{charge} twice"]
      - id: long_hold
        description: Waiting
        department: support_ops
        signals: {hold_seconds_gte: 600}
    """
)


def problems_of(text: str) -> list[str]:
    with pytest.raises(TaxonomyError) as caught:
        parse_taxonomy(text, "t.yaml")
    return caught.value.problems


def broken(old: str, new: str) -> str:
    assert old in VALID, old
    return VALID.replace(old, new, 1)


def test_valid_file_parses() -> None:
    taxonomy = parse_taxonomy(VALID, "t.yaml")
    assert taxonomy.cause_ids == ("billing_error", "long_hold")
    assert match_root_causes("billed twice", taxonomy)[0].cause_id == "billing_error"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            broken("{charge} twice", "{charges} twice"),
            "t.yaml:12: cause billing_error phrases: unknown concept {charges}",
        ),
        (
            broken("department: billing", "department: finance"),
            "t.yaml:11: cause billing_error: unknown department 'finance'",
        ),
        (
            broken("id: long_hold", "id: billing_error"),
            "t.yaml:13: cause billing_error: duplicate id (first at line 9)",
        ),
        (
            broken('["{charge} twice"]', '["..."]'),
            "t.yaml:12: cause billing_error phrases: phrase '...' contains a sentence break",
        ),
        (
            broken('["{charge} twice"]', '["!!"]'),
            "t.yaml:12: cause billing_error phrases: phrase '!!' contains a sentence break",
        ),
        (
            broken('["{charge} twice"]', "[\"''\"]"),
            "has no words, so it can never match",
        ),
        (
            broken('phrases: ["{charge} twice"]', "regex: ['(']"),
            "t.yaml:12: cause billing_error regex: regex '(' does not compile",
        ),
        (broken('phrases: ["{charge} twice"]', "regex: ['x*']"), "matches empty text"),
        (
            broken('phrases: ["{charge} twice"]', "near: [[a, b, 99]]"),
            "near's window must be 0..30 words, got 99",
        ),
        (
            broken('phrases: ["{charge} twice"]', "numbers: ['duration >= 5']"),
            "a duration needs a unit",
        ),
        (broken('phrases: ["{charge} twice"]', "numbers: ['speed > 5']"), "must read like"),
        (
            broken("hold_seconds_gte", "wait_gte"),
            "t.yaml:16: cause long_hold: unknown signal 'wait_gte'",
        ),
        (
            broken("    phrases:", "    phrase:"),
            "t.yaml:12: cause billing_error: unknown key 'phrase'",
        ),
        (broken("name: shop", "nmae: shop"), "t.yaml:2: nmae: unknown top-level key"),
        (broken("version: 2", "version: 3"), "t.yaml:1: version: must be 1 or 2"),
        (broken("support_ops: Triage", "triage: Triage"), "must include 'support_ops'"),
        (broken("id: long_hold", "id: unclassified"), "is reserved for unmatched feedback"),
        (broken("signals: {hold_seconds_gte: 600}", "description: again"), "duplicate key"),
        (
            broken("charge: [charged, billed]", "charge: [charged, '{charge}']"),
            "concept charge: refers to itself",
        ),
        (
            broken(
                "  - id: long_hold", "  - id: long_hold\n    phrases: ['{charge} twice']"
            ).replace("    signals: {hold_seconds_gte: 600}\n", ""),
            "cause long_hold: has exactly the rules of cause billing_error",
        ),
        (
            broken("signals: {hold_seconds_gte: 600}", "signals: {}"),
            "t.yaml:13: cause long_hold: has no rules",
        ),
        ("version: 2\ndepartments: [\n", "t.yaml:3: invalid YAML"),
        ("- a list\n", "t.yaml:1: top level must be a mapping"),
    ],
)
def test_each_problem_is_one_line_naming_file_line_and_field(text: str, expected: str) -> None:
    problems = problems_of(text)
    assert any(expected in problem for problem in problems), problems
    assert all("\n" not in problem for problem in problems)


def test_every_problem_is_reported_at_once() -> None:
    text = broken("department: billing", "department: finance").replace(
        "hold_seconds_gte", "wait_gte"
    )
    problems = problems_of(text)
    assert len(problems) == 2, problems
    message = str(TaxonomyError(problems))
    assert message.startswith("t.yaml:11:") and "(and 1 more: voc taxonomy check)" in message


def test_check_taxonomy_reads_files(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(VALID, encoding="utf-8")
    assert check_taxonomy(good) == []
    missing = tmp_path / "missing.yaml"
    assert "cannot read taxonomy" in check_taxonomy(missing)[0]
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(VALID.replace("Triage", "Tri\xe9").encode("latin-1"))
    assert "not valid UTF-8" in check_taxonomy(latin)[0]


COMPANY = textwrap.dedent(
    """\
    version: 2
    extends: generic
    name: acme
    release: "2026.12"
    departments:
      field_ops: "Engineers who visit customers"
    concepts:
      order: [hamper]
    abbreviations:
      hmpr: hamper
    drop: [missing_feature]
    rename: {usability: hard_to_use}
    causes:
      - id: engineer_no_show
        description: "The engineer did not turn up"
        department: field_ops
        phrases: ["engineer {not} turn up", "engineer no show"]
      - id: delivery_delay
        phrases: ["hamper stuck at customs"]
    """
)


def test_a_company_file_extends_a_pack(tmp_path: Path) -> None:
    path = tmp_path / "acme.yaml"
    path.write_text(COMPANY, encoding="utf-8")
    taxonomy = load_taxonomy(path)
    generic = load_taxonomy(pack="generic")
    assert (taxonomy.name, taxonomy.release) == ("acme", "2026.12")
    assert "missing_feature" not in taxonomy.cause_ids
    assert "hard_to_use" in taxonomy.cause_ids and "usability" not in taxonomy.cause_ids
    assert taxonomy.cause_ids[-1] == "engineer_no_show"
    assert taxonomy.department_for("engineer_no_show") == "field_ops"
    assert set(generic.departments) < set(taxonomy.departments)

    def found(text: str) -> set[str]:
        return {m.cause_id for m in match_root_causes(text, taxonomy)}

    assert found("the engineer didn't turn up") == {"engineer_no_show"}
    # a merged cause keeps the pack's rules and gains the company's
    assert "delivery_delay" in found("my hamper is stuck at customs")
    assert "delivery_delay" in found("my parcel never arrived")
    # a concept is extended, and the company's abbreviation is applied
    assert "delivery_delay" in found("hmpr never arrived")


def test_extends_problems_name_the_company_file(tmp_path: Path) -> None:
    path = tmp_path / "acme.yaml"
    path.write_text(
        COMPANY.replace("drop: [missing_feature]", "drop: [no_such_cause]").replace(
            "extends: generic", "extends: generic"
        ),
        encoding="utf-8",
    )
    problems = check_taxonomy(path)
    assert problems == [
        f"{path}:11: drop: no cause 'no_such_cause' to drop in the extended taxonomy"
    ]
    path.write_text(COMPANY.replace("extends: generic", "extends: nosuch"), encoding="utf-8")
    assert "unknown taxonomy pack 'nosuch'" in check_taxonomy(path)[0]
    path.write_text(COMPANY.replace("extends: generic", "extends: ./base.yaml"), encoding="utf-8")
    assert "cannot read ./base.yaml" in check_taxonomy(path)[0]


def test_extends_a_file_by_relative_path(tmp_path: Path) -> None:
    (tmp_path / "base.yaml").write_text(VALID, encoding="utf-8")
    child = tmp_path / "child.yaml"
    child.write_text(
        "version: 2\nextends: base.yaml\ncauses:\n  - id: billing_error\n"
        "    phrases: ['overcharged']\n",
        encoding="utf-8",
    )
    taxonomy = load_taxonomy(child)
    assert taxonomy.name == "shop"
    assert match_root_causes("overcharged", taxonomy)[0].cause_id == "billing_error"
    assert match_root_causes("charged twice", taxonomy)[0].cause_id == "billing_error"


@pytest.mark.parametrize("pack", available_packs())
def test_every_shipped_pack_is_valid(pack: str) -> None:
    assert check_taxonomy(pack=pack) == []
    taxonomy = load_taxonomy(pack=pack)
    assert taxonomy.name == pack
    assert "support_ops" in taxonomy.departments


def test_the_packs_are_shipped() -> None:
    assert set(available_packs()) == {
        "generic",
        "retail",
        "saas",
        "telecom",
        "travel",
        "banking",
        "utilities",
    }
    with pytest.raises(TaxonomyError, match="unknown taxonomy pack 'nosuch'"):
        load_taxonomy(pack="nosuch")
