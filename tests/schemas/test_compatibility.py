"""The contract-evolution rules: what a new version of an event contract may and may not change."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from voc.schemas.compatibility import (
    check_candidate,
    check_contract_family,
    compatibility_problems,
)

SCHEMAS = Path(__file__).parents[2] / "schemas" / "events"


def shipped(name: str) -> dict[str, Any]:
    return json.loads((SCHEMAS / name).read_text(encoding="utf-8"))


def survey_v3(change: Callable[[dict[str, Any]], Any] | None = None) -> dict[str, Any]:
    """Shipped survey v2, relabelled as v3 and changed by ``change``."""
    schema = copy.deepcopy(shipped("survey.v2.json"))
    schema["$id"], schema["title"] = "voc/survey/3", "survey v3"
    if change is not None:
        change(schema)
    return schema


def write(folder: Path, name: str, schema: dict[str, Any]) -> Path:
    path = folder / name
    path.write_text(json.dumps(schema, indent=2), encoding="utf-8")
    return path


def props(schema: dict[str, Any]) -> dict[str, Any]:
    return schema["properties"]


# --------------------------------------------------------------------------- shipped contracts


def test_the_shipped_contracts_are_a_sound_family() -> None:
    assert check_contract_family() == []
    assert check_contract_family(SCHEMAS) == []
    assert check_contract_family(str(SCHEMAS)) == []


def test_survey_v2_only_adds_an_optional_product_area() -> None:
    v1, v2 = shipped("survey.v1.json"), shipped("survey.v2.json")
    assert compatibility_problems(v1, v2) == []
    assert set(props(v2)) - set(props(v1)) == {"product_area"}
    assert v2["required"] == v1["required"]
    assert v2["additionalProperties"] is False
    assert check_candidate(SCHEMAS / "survey.v2.json") == []


# --------------------------------------------------------------------------- breaking changes


def test_a_type_change_names_the_field_and_both_types() -> None:
    candidate = survey_v3(lambda s: props(s).update(csat={"type": "string"}))
    assert compatibility_problems(shipped("survey.v2.json"), candidate) == [
        "survey v3: property 'csat' changed type from ['integer','null'] to 'string' "
        "(breaking: v2 messages with 'csat' of integer or null would be rejected)"
    ]


@pytest.mark.parametrize(
    ("change", "fragments"),
    [
        pytest.param(
            lambda s: props(s).pop("comment"),
            ["property 'comment' was removed", "v2 messages that carry it would be rejected"],
            id="removed field",
        ),
        pytest.param(
            lambda s: (
                props(s).update(account_tier={"type": "string"}),
                s["required"].append("account_tier"),
            ),
            ["property 'account_tier' was added as a required property", "without it"],
            id="new required field",
        ),
        pytest.param(
            lambda s: s["required"].append("product_area"),
            ["property 'product_area' became required", "v2 messages without it"],
            id="optional field made required",
        ),
        pytest.param(
            lambda s: props(s)["channel"]["enum"].remove("social"),
            ["property 'channel' no longer allows \"social\"", "enum narrowed"],
            id="narrowed enum",
        ),
        pytest.param(
            lambda s: props(s)["language"].update(enum=["en", "de"]),
            ['property \'language\' is now restricted to "en", "de"'],
            id="enum added",
        ),
        pytest.param(
            lambda s: props(s)["comment"].update(maxLength=500),
            ["property 'comment' tightened maxLength from 20000 to 500", "a longer 'comment'"],
            id="tightened maxLength",
        ),
        pytest.param(
            lambda s: props(s)["comment"].update(minLength=1),
            ["property 'comment' tightened minLength from 0 to 1"],
            id="tightened minLength",
        ),
        pytest.param(
            lambda s: props(s)["nps"].update(maximum=9),
            ["property 'nps' tightened its upper bound from maximum 10 to maximum 9"],
            id="tightened maximum",
        ),
        pytest.param(
            lambda s: props(s)["csat"].update(exclusiveMinimum=1),
            ["property 'csat' tightened its lower bound from minimum 1 to exclusiveMinimum 1"],
            id="minimum made exclusive",
        ),
        pytest.param(
            lambda s: props(s)["csat"].update(type="integer"),
            ["changed type from ['integer','null'] to 'integer'", "'csat' of null"],
            id="narrowed type list",
        ),
        pytest.param(
            lambda s: props(s)["customer_id"].update(pattern="^cus_[0-9a-f]+$"),
            ["property 'customer_id' added pattern '^cus_[0-9a-f]+$'", "does not match"],
            id="pattern added",
        ),
        pytest.param(
            lambda s: props(s)["language"].update(pattern="^[a-z]{2}$"),
            ["property 'language' changed pattern from", "to '^[a-z]{2}$'"],
            id="pattern changed",
        ),
        pytest.param(
            lambda s: props(s)["submitted_at"].update({"$ref": "#/$defs/timestamp"}),
            ["property 'submitted_at' changed '$ref' from absent", "review it by hand"],
            id="keyword the checker does not understand",
        ),
        pytest.param(
            lambda s: props(s).update(resolved=False),
            ["property 'resolved' no longer accepts any value"],
            id="false schema",
        ),
    ],
)
def test_breaking_candidates_are_rejected_with_the_reason(change, fragments) -> None:
    problems = compatibility_problems(shipped("survey.v2.json"), survey_v3(change))
    assert len(problems) == 1, problems
    assert problems[0].startswith("survey v3: ")
    assert "(breaking: " in problems[0]
    for fragment in fragments:
        assert fragment in problems[0]
    assert "\n" not in problems[0]


def test_a_rename_is_a_removal_with_a_hint() -> None:
    def rename(schema: dict[str, Any]) -> None:
        props(schema)["customer"] = props(schema).pop("customer_id")
        schema["required"] = [
            "customer" if name == "customer_id" else name for name in schema["required"]
        ]

    problems = compatibility_problems(shipped("survey.v2.json"), survey_v3(rename))
    assert problems == [
        "survey v3: property 'customer_id' was removed; it looks renamed to 'customer': keep "
        "'customer_id' beside it instead (breaking: v2 messages that carry it would be rejected)",
        "survey v3: property 'customer' was added as a required property "
        "(breaking: v2 messages without it would be rejected)",
    ]


def test_a_required_field_becoming_optional_is_breaking_for_the_sink() -> None:
    (problem,) = compatibility_problems(
        shipped("survey.v2.json"), survey_v3(lambda s: s["required"].remove("comment"))
    )
    assert problem == (
        "survey v3: property 'comment' stopped being required (breaking: consumers that rely "
        "on it being present (the sink's NOT NULL columns) would fail on messages without it)"
    )


def test_closing_additional_properties_is_breaking() -> None:
    previous = {"title": "thing v1", "type": "object", "additionalProperties": True}
    candidate = {"title": "thing v2", "type": "object", "additionalProperties": False}
    assert compatibility_problems(previous, candidate) == [
        "thing v2: the payload changed additionalProperties from true to false "
        "(breaking: v1 messages with properties it does not declare would be rejected)"
    ]


def test_declaring_a_property_an_open_schema_accepted_freely_is_breaking() -> None:
    previous = {"title": "thing v1", "type": "object"}
    candidate = {"title": "thing v2", "type": "object", "properties": {"n": {"type": "integer"}}}
    (problem,) = compatibility_problems(previous, candidate)
    assert problem.startswith("thing v2: property 'n' was added, but v1 accepted it")
    assert "v1 messages that sent their own 'n' would be rejected" in problem


def test_nested_objects_and_array_items_are_compared() -> None:
    def nested(max_length: int, extra: bool) -> dict[str, Any]:
        return {
            "title": f"thing v{1 if extra else 2}",
            "type": "object",
            "properties": {
                "tags": {"type": "array", "items": {"type": "string", "maxLength": max_length}},
                "meta": {
                    "type": "object",
                    "properties": {"source": {"type": "string"}},
                    "additionalProperties": extra,
                },
            },
        }

    assert compatibility_problems(nested(20, True), nested(10, False)) == [
        "thing v2: items of property 'tags' tightened maxLength from 20 to 10 "
        "(breaking: v1 messages with a longer item in 'tags' would be rejected)",
        "thing v2: property 'meta' changed additionalProperties from true to false "
        "(breaking: v1 messages with properties it does not declare would be rejected)",
    ]


def test_invalid_schemas_are_reported_not_compared() -> None:
    (problem,) = compatibility_problems(
        shipped("survey.v2.json"), survey_v3(lambda s: s.update(type=3))
    )
    assert problem.startswith("survey v3: the candidate schema is not a valid JSON Schema")


# --------------------------------------------------------------------------- allowed changes


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(
            lambda s: props(s).update(
                contact_reason={"type": "string", "maxLength": 200, "description": "new"}
            ),
            id="optional field added",
        ),
        pytest.param(lambda s: props(s)["comment"].update(maxLength=40000), id="maxLength raised"),
        pytest.param(lambda s: props(s)["comment"].pop("maxLength"), id="maxLength dropped"),
        pytest.param(lambda s: props(s)["nps"].update(minimum=-1), id="minimum lowered"),
        pytest.param(lambda s: props(s)["channel"]["enum"].append("sms"), id="enum widened"),
        pytest.param(lambda s: props(s)["language"].pop("pattern"), id="pattern dropped"),
        pytest.param(lambda s: props(s)["csat"].update(type=["number", "null"]), id="to number"),
        pytest.param(
            lambda s: props(s)["resolved"].update(type=["boolean", "null"]), id="null allowed"
        ),
        pytest.param(lambda s: props(s)["channel"].update(type="string"), id="type of enum"),
        pytest.param(
            lambda s: props(s)["submitted_at"].update(description="When.", format="date"),
            id="annotations and format",
        ),
        pytest.param(lambda s: s.update(additionalProperties=True), id="opened"),
    ],
)
def test_compatible_candidates_pass(change) -> None:
    assert compatibility_problems(shipped("survey.v2.json"), survey_v3(change)) == []


# --------------------------------------------------------------------------- the family on disk


@pytest.fixture
def family(tmp_path: Path) -> Path:
    for name in ("survey.v1.json", "survey.v2.json", "agent_note.v1.json"):
        write(tmp_path, name, shipped(name))
    (tmp_path / "taxonomy.yaml").write_text("not a contract\n", encoding="utf-8")
    return tmp_path


def test_a_copy_of_the_shipped_family_passes(family: Path) -> None:
    assert check_contract_family(family) == []


def test_version_gaps_are_caught(family: Path) -> None:
    write(family, "survey.v4.json", survey_v3(lambda s: s.update({"$id": "voc/survey/4"})))
    (family / "agent_note.v1.json").rename(family / "agent_note.v2.json")
    problems = check_contract_family(family)
    assert "agent_note: version(s) v1 missing; versions must run from v1 to v2 without gaps" in (
        problems
    )
    assert "survey: version(s) v3 missing; versions must run from v1 to v4 without gaps" in (
        problems
    )


def test_a_breaking_version_in_the_family_is_caught(family: Path) -> None:
    breaking = survey_v3(lambda s: props(s).pop("product_area"))
    write(family, "survey.v3.json", breaking)
    assert check_contract_family(family) == [
        "survey v3: property 'product_area' was removed "
        "(breaking: v2 messages that carry it would be rejected)"
    ]


def test_id_and_title_must_match_the_file_name(family: Path) -> None:
    write(family, "survey.v3.json", survey_v3(lambda s: s.update(title="survey v2")))
    assert check_contract_family(family) == [
        "survey.v3.json: 'title' is \"survey v2\", but the file name says survey v3; "
        "expected 'survey v3'"
    ]


@pytest.mark.parametrize("name", ["survey.v0.json", "survey.v03.json", "Survey.v3.json"])
def test_badly_named_contract_files_are_reported(family: Path, name: str) -> None:
    write(family, name, survey_v3())
    (problem,) = check_contract_family(family)
    assert problem.startswith(f"{name}: not named <event_type>.v<N>.json")


def test_unreadable_contract_files_are_reported(family: Path) -> None:
    (family / "survey.v3.json").write_text('{"title": ', encoding="utf-8")
    (problem,) = check_contract_family(family)
    assert problem.startswith("survey.v3.json: not valid JSON")


# --------------------------------------------------------------------------- one candidate


def test_an_additive_candidate_passes(tmp_path: Path) -> None:
    candidate = survey_v3(lambda s: props(s).update(contact_reason={"type": "string"}))
    assert check_candidate(write(tmp_path, "survey.v3.json", candidate)) == []


def test_a_breaking_candidate_is_rejected_against_the_shipped_previous_version(
    tmp_path: Path,
) -> None:
    candidate = survey_v3(lambda s: props(s)["comment"].update(maxLength=500))
    assert check_candidate(str(write(tmp_path, "survey.v3.json", candidate))) == [
        "survey v3: property 'comment' tightened maxLength from 20000 to 500 "
        "(breaking: v2 messages with a longer 'comment' would be rejected)"
    ]


@pytest.mark.parametrize("name", ["survey_v3.json", "survey.v3.yaml", "survey.3.json"])
def test_a_candidate_with_a_malformed_name_is_rejected(tmp_path: Path, name: str) -> None:
    (problem,) = check_candidate(write(tmp_path, name, survey_v3()))
    assert problem.startswith(f"{name}: a contract file must be named <event_type>.v<N>.json")


def test_a_candidate_without_its_previous_version_is_rejected(tmp_path: Path) -> None:
    candidate = survey_v3(lambda s: s.update({"$id": "voc/survey/5", "title": "survey v5"}))
    assert check_candidate(write(tmp_path, "survey.v5.json", candidate)) == [
        "survey.v5.json: there is no survey v4 to be compatible with; the latest shipped is v2, "
        "so the next is survey.v3.json"
    ]
    new_type = {**candidate, "$id": "voc/chat/2", "title": "chat v2"}
    assert check_candidate(write(tmp_path, "chat.v2.json", new_type)) == [
        "chat.v2.json: there is no chat v1 to be compatible with; no chat contract ships yet, "
        "so start at chat.v1.json"
    ]


def test_version_one_of_a_new_event_type_has_nothing_to_break(tmp_path: Path) -> None:
    schema = {**survey_v3(), "$id": "voc/chat_transcript/1", "title": "chat_transcript v1"}
    assert check_candidate(write(tmp_path, "chat_transcript.v1.json", schema)) == []


def test_a_shipped_version_may_not_change_in_place(tmp_path: Path) -> None:
    changed = shipped("survey.v2.json")
    props(changed)["product_area"]["maxLength"] = 128  # looser, but v2 already ships
    (problem,) = check_candidate(write(tmp_path, "survey.v2.json", changed))
    assert problem.startswith("survey.v2.json: survey v2 already ships and this file differs")


def test_a_candidate_whose_id_disagrees_with_its_name_is_rejected(tmp_path: Path) -> None:
    candidate = survey_v3(lambda s: s.update({"$id": "voc/survey/2"}))
    assert check_candidate(write(tmp_path, "survey.v3.json", candidate)) == [
        "survey.v3.json: '$id' is \"voc/survey/2\", but the file name says survey v3; "
        "expected 'voc/survey/3'"
    ]


def test_a_missing_candidate_file_is_reported(tmp_path: Path) -> None:
    assert check_candidate(tmp_path / "survey.v3.json") == [
        f"{tmp_path / 'survey.v3.json'}: no such file"
    ]
