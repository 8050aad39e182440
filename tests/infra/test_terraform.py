"""infra/terraform parses, and its references resolve.

``terraform validate`` needs the google provider, which cannot be downloaded here,
so this is the check that runs everywhere: every file parses as HCL2 (python-hcl2),
every ``google_x.name`` / ``data.x.name`` / ``var.x`` / ``local.x`` / ``module.x``
referenced is declared, every variable and local is used, the Pub/Sub names are the
pipeline's own (pipelines/topology.py) and the topic schemas carry every field of
the event contracts (schemas/events/).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import hcl2
import pytest

from tests.infra.flex_template_module import ROOT
from voc.pipelines.topology import TOPIC_FOR_EVENT_TYPE, TOPOLOGY

TERRAFORM = ROOT / "infra" / "terraform"
# Resource types are provider-prefixed; these are the providers versions.tf declares.
_RESOURCE_REF = re.compile(r"(?<![\w.])((?:google|random)_[a-z0-9_]+)\.([a-z0-9_-]+)")
_DATA_REF = re.compile(r"(?<![\w.])data\.([a-z0-9_]+)\.([a-z0-9_-]+)")
_NAMED_REF = re.compile(r"(?<![\w.])(var|local|module)\.([a-z0-9_]+)")


def _unquote(text: str) -> str:
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text


def _strings(value) -> Iterator[str]:
    """Every string in a parsed block, keys included (hcl2 keeps expressions as text)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _own(block: dict) -> list[tuple[str, object]]:
    """A parsed block's entries without hcl2's bookkeeping keys (__is_block__, ...)."""
    return [(key, value) for key, value in block.items() if not key.startswith("__")]


def _parsed() -> dict[str, dict]:
    files = sorted(TERRAFORM.glob("*.tf"))
    assert files, f"no .tf files in {TERRAFORM}"
    parsed = {}
    for path in files:
        with path.open(encoding="utf-8") as handle:
            try:
                parsed[path.name] = hcl2.load(handle)
            except Exception as error:  # lark's errors name line and column
                pytest.fail(f"{path.name}: does not parse: {error}")
    return parsed


@pytest.fixture(scope="module")
def stack() -> dict:
    """Declarations and the text of every block, across all files."""
    declared: dict[str, set] = {
        kind: set() for kind in ("resource", "data", "var", "local", "module", "output")
    }
    blocks: list[tuple[str, str, object]] = []  # (kind, name, body)
    variables = {}
    for parsed in _parsed().values():
        for entry in parsed.get("resource", []):
            for rtype, named in _own(entry):
                for name, body in _own(named):
                    declared["resource"].add((_unquote(rtype), _unquote(name)))
                    blocks.append(("resource", f"{_unquote(rtype)}.{_unquote(name)}", body))
        for entry in parsed.get("data", []):
            for dtype, named in _own(entry):
                for name, body in _own(named):
                    declared["data"].add((_unquote(dtype), _unquote(name)))
                    blocks.append(("data", f"{_unquote(dtype)}.{_unquote(name)}", body))
        for entry in parsed.get("variable", []):
            for name, body in _own(entry):
                declared["var"].add(_unquote(name))
                variables[_unquote(name)] = body
                blocks.append(("variable", _unquote(name), body))
        for entry in parsed.get("locals", []):
            for name, body in entry.items():
                if not name.startswith("__"):  # hcl2's own keys (__comments__, ...)
                    declared["local"].add(_unquote(name))
                    blocks.append(("local", _unquote(name), body))
        for entry in parsed.get("module", []):
            for name, body in _own(entry):
                declared["module"].add(_unquote(name))
                blocks.append(("module", _unquote(name), body))
        for entry in parsed.get("output", []):
            for name, body in _own(entry):
                declared["output"].add(_unquote(name))
                blocks.append(("output", _unquote(name), body))
        for key in ("provider", "terraform"):
            for entry in parsed.get(key, []):
                blocks.append((key, key, entry))
    return {"declared": declared, "blocks": blocks, "variables": variables}


def test_every_reference_resolves(stack):
    declared = stack["declared"]
    missing = []
    for kind, name, body in stack["blocks"]:
        for text in _strings(body):
            for rtype, rname in _RESOURCE_REF.findall(text):
                if (rtype, rname) not in declared["resource"]:
                    missing.append(f"{kind} {name}: {rtype}.{rname}")
            for dtype, dname in _DATA_REF.findall(text):
                if (dtype, dname) not in declared["data"]:
                    missing.append(f"{kind} {name}: data.{dtype}.{dname}")
            for space, ref in _NAMED_REF.findall(text):
                key = {"var": "var", "local": "local", "module": "module"}[space]
                if ref not in declared[key]:
                    missing.append(f"{kind} {name}: {space}.{ref}")
    assert missing == []


def test_every_variable_and_local_is_used(stack):
    used = {"var": set(), "local": set()}
    for kind, name, body in stack["blocks"]:
        for text in _strings(body):
            for space, ref in _NAMED_REF.findall(text):
                # A variable's validation names the variable itself: that is no use.
                if space in used and not (kind == "variable" and ref == name):
                    used[space].add(ref)
    assert stack["declared"]["var"] - used["var"] == set()
    assert stack["declared"]["local"] - used["local"] == set()


def test_the_reference_check_catches_a_dangling_reference(stack):
    """The checker itself: a reference to nothing declared is reported."""
    text = "${google_pubsub_topic.nowhere.id} ${var.nothing} ${data.google_project.other.id}"
    declared = stack["declared"]
    assert [r for r in _RESOURCE_REF.findall(text) if r not in declared["resource"]] == [
        ("google_pubsub_topic", "nowhere")
    ]
    assert [r for s, r in _NAMED_REF.findall(text) if r not in declared[s]] == ["nothing"]
    assert [r for r in _DATA_REF.findall(text) if r not in declared["data"]] == [
        ("google_project", "other")
    ]


def _topics_default(stack) -> dict[str, dict[str, str]]:
    (default,) = [stack["variables"]["topics"]["default"]]
    return {
        _unquote(kind): {key: _unquote(value) for key, value in entry.items()}
        for kind, entry in default.items()
    }


def test_pubsub_names_are_the_pipelines_defaults(stack):
    topics = _topics_default(stack)
    assert {kind: t["topic"] for kind, t in topics.items()} == TOPIC_FOR_EVENT_TYPE
    assert {t["topic"]: t["subscription"] for t in topics.values()} == TOPOLOGY


def _proto_fields(path: Path) -> set[str]:
    text = re.sub(r"//[^\n]*", "", path.read_text(encoding="utf-8"))
    return set(re.findall(r"^\s*(?:optional\s+)?\w+\s+(\w+)\s*=\s*\d+;", text, re.MULTILINE))


def test_topic_schemas_carry_every_field_of_every_contract_version(stack):
    for event_type, entry in _topics_default(stack).items():
        proto = TERRAFORM / "schemas" / entry["schema_file"]
        assert proto.is_file(), proto
        contract_fields = set()
        for contract in sorted((ROOT / "schemas" / "events").glob(f"{event_type}.v*.json")):
            contract_fields |= set(json.loads(contract.read_text())["properties"])
        assert contract_fields, event_type
        assert _proto_fields(proto) == contract_fields, event_type


def test_providers_are_pinned_to_exact_versions():
    with (TERRAFORM / "versions.tf").open(encoding="utf-8") as handle:
        parsed = hcl2.load(handle)
    (terraform,) = parsed["terraform"]
    (providers,) = terraform["required_providers"]
    versions = {name: _unquote(spec["version"]) for name, spec in _own(providers)}
    assert set(versions) == {"google", "random"}
    assert all(re.fullmatch(r"\d+\.\d+\.\d+", v) for v in versions.values()), versions
