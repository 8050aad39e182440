"""How the contract checker reads, compares and names pieces of a JSON Schema.

A fragment is any subschema the checker looks at: the payload, one property,
the items of an array, the rule for undeclared properties. These helpers turn
one into comparable values (its types, allowed values, effective bounds) and
turn a place in it into words a problem can use. They are kept apart from the
rules in ``contract_diff`` so that the diff reads as the rules, and so that the
file checks in ``compatibility`` show schemas and values the same way.
"""

from __future__ import annotations

import json
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

# A keyword the schema does not have (show_json shows it as "absent").
MISSING = object()


def schema_error(schema: Any) -> str | None:
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as error:
        location = "/".join(str(part) for part in error.absolute_path) or "(top level)"
        return f"{error.message[:200]} at {location}"
    return None


# --------------------------------------------------------------------------- places


def where(path: str) -> str:
    """How a problem names the place: paths are dotted, ``*`` undeclared, ``[]`` items."""
    if not path:
        return "the payload"
    if path.endswith("[]"):
        return f"items of {where(path[:-2])}"
    if path == "*" or path.endswith(".*"):
        return f"undeclared properties of {where(path[:-2])}"
    return f"property {path!r}"


def subject(path: str, article: bool = False) -> str:
    """The thing a message sends at ``path``, to read as "with (a longer) <subject>"."""
    if path and not path.endswith(("[]", "*")):
        return repr(path.rsplit(".", 1)[-1])
    if not path:
        noun = "payload"
    elif path.endswith("[]"):
        noun = f"item in {subject(path[:-2])}"
    else:
        noun = "undeclared property"
    if not article:
        return noun
    return f"an {noun}" if noun[0] in "aeiou" else f"a {noun}"


def child(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


# --------------------------------------------------------------------------- types and values


def declared_types(schema: dict) -> frozenset[str] | None:
    declared = schema.get("type")
    if declared is None:
        return None
    return frozenset([declared] if isinstance(declared, str) else declared)


def value_types(schema: dict) -> frozenset[str] | None:
    """The types an untyped enum/const allows: adding the matching type narrows nothing."""
    values = allowed_values(schema)
    return None if values is None else frozenset(json_type(value) for value in values)


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def covered(old_type: str, new_types: frozenset[str]) -> bool:
    return old_type in new_types or (old_type == "integer" and "number" in new_types)


def allowed_values(schema: dict) -> list[Any] | None:
    if "const" in schema:
        values = [schema["const"]]
        if "enum" in schema:
            values = [value for value in values if value_key(value) in _keys(schema["enum"])]
        return values
    return list(schema["enum"]) if "enum" in schema else None


def _keys(values: list[Any]) -> set[str]:
    return {value_key(value) for value in values}


def value_key(value: Any) -> str:
    """Type-aware identity: in Python ``True == 1``, in JSON Schema they differ."""
    return json.dumps(value, sort_keys=True)


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# --------------------------------------------------------------------------- limits


def bound(schema: dict, inclusive: str, exclusive: str, upper: bool) -> tuple[float, bool] | None:
    """The effective (value, strict) bound when both keywords are present."""
    found = [
        (schema[keyword], strict)
        for keyword, strict in ((inclusive, False), (exclusive, True))
        if is_number(schema.get(keyword))
    ]
    if not found:
        return None
    # Tightest wins; at equal values the strict one is tighter.
    return min(found, key=lambda b: (b[0], not b[1])) if upper else max(found)


def tighter(old: tuple[float, bool] | None, new: tuple[float, bool], upper: bool) -> bool:
    if old is None:
        return True
    (old_value, old_strict), (new_value, new_strict) = old, new
    if new_value != old_value:
        return new_value < old_value if upper else new_value > old_value
    return new_strict and not old_strict


def show_bound(bound: tuple[float, bool] | None, keywords: tuple[str, str]) -> str:
    if bound is None:
        return "none"
    value, strict = bound
    return f"{keywords[1] if strict else keywords[0]} {value}"


def extra_schema(schema: dict) -> Any:
    """The rule undeclared properties must follow, or None when they are refused."""
    extra = schema.get("additionalProperties", True)
    if extra is False:
        return None
    return {} if extra is True else extra


# --------------------------------------------------------------------------- showing


def show_type(declared: Any) -> str:
    if declared is None:
        return "any type"
    if isinstance(declared, list):
        return "[" + ",".join(repr(item) for item in declared) + "]"
    return repr(declared)


def show_values(values: list[Any]) -> str:
    return ", ".join(show_json(value) for value in values)


def show_json(value: Any) -> str:
    if value is MISSING:
        return "absent"
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "..."
