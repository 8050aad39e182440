"""Keep every new version of an event contract readable by everything built on the old one.

Publishers move to a new contract version at their own pace, so for a while one
stream carries several versions of an event type, and everything downstream (the
sink's columns, department queries, dashboards) was written against the older
one. A new version may therefore only *add*: every message valid under version
N-1 must stay valid under version N, and no field that consumers read may
disappear. Anything else must be a new event type, not a new version.

The rules are checked on the schemas' structure rather than by generating
messages, so that each problem can name the field and the exact change. Per
property, recursively into nested objects and array items, these are breaking:

* removing a property (a rename is a removal plus an addition, and is reported
  as a removal with a hint);
* changing its type, including dropping one type from a list (``integer`` to
  ``number`` is a widening and allowed);
* making a property required that was not, or adding a required property;
* making a required property optional: old messages stay valid, but consumers
  (the sink stores required fields in NOT NULL columns) read it unconditionally;
* narrowing an ``enum``/``const``, or adding one where there was none;
* tightening ``minLength``/``maxLength``/``minimum``/``maximum`` (and their
  exclusive, ``*Items`` and ``*Properties`` relatives), or adding one;
* adding or changing a ``pattern`` (whether one regex accepts everything
  another does is undecidable in practice, so any change counts);
* closing ``additionalProperties`` that used to be open.

Adding an optional property and loosening or dropping constraints are allowed.
``title``, ``description``, ``format`` and other annotations are ignored:
``format`` is not enforced by the pipeline (parse_event compiles contracts with
``use_formats=False``). Any other keyword this module does not understand is
compared verbatim, and any change to it is reported: a checker that cannot
prove a change safe must not pass it.
"""

from __future__ import annotations

import itertools
import json
import os
import re
from dataclasses import dataclass, field
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from voc.schemas.contracts import compile_contract, contract_file_name, contracts_folder

__all__ = [
    "CONTRACT_FILE",
    "check_candidate",
    "check_contract_family",
    "compatibility_problems",
]

# parse_event loads contract_file_name(event_type, int(schema_version)), so a
# leading zero or a version 0 names a file it would never load.
CONTRACT_FILE = re.compile(r"^(?P<event_type>[a-z][a-z0-9_]*)\.v(?P<version>[1-9][0-9]*)\.json$")

# Keywords that never change which messages are accepted (for format, see above).
_ANNOTATIONS = frozenset(
    {
        "$id",
        "$comment",
        "title",
        "description",
        "examples",
        "default",
        "deprecated",
        "readOnly",
        "writeOnly",
        "format",
    }
)
# Keywords compared by meaning below; everything else is compared verbatim.
_UNDERSTOOD = frozenset(
    {
        "type",
        "enum",
        "const",
        "minimum",
        "exclusiveMinimum",
        "maximum",
        "exclusiveMaximum",
        "minLength",
        "maxLength",
        "minItems",
        "maxItems",
        "minProperties",
        "maxProperties",
        "pattern",
        "properties",
        "required",
        "additionalProperties",
        "items",
    }
)
# (keyword, what a message that the tightened keyword rejects has, around the subject)
_MIN_COUNTS = (
    ("minLength", "a shorter {}"),
    ("minItems", "fewer items in {}"),
    ("minProperties", "fewer properties in {}"),
)
_MAX_COUNTS = (
    ("maxLength", "a longer {}"),
    ("maxItems", "more items in {}"),
    ("maxProperties", "more properties in {}"),
)
_MISSING = object()


# --------------------------------------------------------------------------- one pair


def compatibility_problems(previous: dict[str, Any], candidate: dict[str, Any]) -> list[str]:
    """One line per change that would break consumers of ``previous``; empty if none.

    Lines are prefixed with the candidate's title (e.g. ``survey v3``) and name
    the previous version by its title's version (``v2``), so they read the same
    in a CI log as in ``voc schema check``.
    """
    return _compatibility(
        previous,
        candidate,
        new_label=_title(candidate, "candidate"),
        old_label=_version_label(previous),
    )


def _compatibility(previous: Any, candidate: Any, new_label: str, old_label: str) -> list[str]:
    invalid = [
        f"{new_label}: the {which} schema is not a valid JSON Schema: {problem}"
        for which, schema in (("previous", previous), ("candidate", candidate))
        if (problem := _schema_error(schema)) is not None
    ]
    if invalid:
        return invalid  # comparing broken schemas would only produce noise
    diff = _Diff(old_label)
    diff.compare("", previous, candidate)
    return [f"{new_label}: {problem}" for problem in diff.problems]


@dataclass
class _Diff:
    """Walks two schemas side by side; ``old`` is how the problems name the old version."""

    old: str
    found: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        return [
            f"{_where(path)} {change} (breaking: {consequence})"
            for path, change, consequence in self.found
        ]

    def add(self, path: str, change: str, consequence: str) -> None:
        self.found.append((path, change, consequence))

    def compare(self, path: str, old: Any, new: Any) -> None:
        if old is False:
            return  # nothing was valid here before, so nothing can break
        if new is False:
            self.add(path, "no longer accepts any value", f"{self.old} messages would be rejected")
            return
        old = {} if old is True else old
        new = {} if new is True else new
        self._types(path, old, new)
        self._values(path, old, new)
        self._bounds(path, old, new)
        self._counts(path, old, new)
        self._pattern(path, old, new)
        self._object(path, old, new)
        self._items(path, old, new)
        self._verbatim(path, old, new)

    # ------------------------------------------------------------------ scalars

    def _types(self, path: str, old: dict, new: dict) -> None:
        new_types = _declared_types(new)
        if new_types is None:
            return  # any type is accepted now
        old_types = _declared_types(old) or _value_types(old)
        if old_types is None:
            lost = "another type"
        else:
            narrowed = sorted(t for t in old_types if not _covered(t, new_types))
            if not narrowed:
                return
            lost = " or ".join(narrowed)
        self.add(
            path,
            f"changed type from {_show_type(old.get('type'))} to {_show_type(new['type'])}",
            f"{self.old} messages with {_subject(path, article=True)} of {lost} would be rejected",
        )

    def _values(self, path: str, old: dict, new: dict) -> None:
        new_values = _allowed_values(new)
        if new_values is None:
            return
        old_values = _allowed_values(old)
        if old_values is None:
            self.add(
                path,
                f"is now restricted to {_show_values(new_values)}",
                f"{self.old} messages with any other value would be rejected",
            )
            return
        kept = {_value_key(value) for value in new_values}
        lost = [value for value in old_values if _value_key(value) not in kept]
        if lost:
            self.add(
                path,
                f"no longer allows {_show_values(lost)} (enum narrowed from "
                f"{_show_values(old_values)} to {_show_values(new_values)})",
                f"{self.old} messages with those values would be rejected",
            )

    def _bounds(self, path: str, old: dict, new: dict) -> None:
        for side, keywords, beyond in (
            ("lower", ("minimum", "exclusiveMinimum"), "smaller"),
            ("upper", ("maximum", "exclusiveMaximum"), "larger"),
        ):
            old_bound = _bound(old, *keywords, upper=side == "upper")
            new_bound = _bound(new, *keywords, upper=side == "upper")
            if new_bound is None or not _tighter(old_bound, new_bound, upper=side == "upper"):
                continue
            self.add(
                path,
                f"tightened its {side} bound from {_show_bound(old_bound, keywords)} "
                f"to {_show_bound(new_bound, keywords)}",
                f"{self.old} messages with a {beyond} {_subject(path)} would be rejected",
            )

    def _counts(self, path: str, old: dict, new: dict) -> None:
        for keywords, upper in ((_MIN_COUNTS, False), (_MAX_COUNTS, True)):
            for keyword, having in keywords:
                new_limit = new.get(keyword)
                if not _is_number(new_limit):
                    continue
                old_limit = old.get(keyword, None if upper else 0)
                if old_limit is None:
                    change = f"added {keyword} {new_limit}"
                elif (new_limit < old_limit) if upper else (new_limit > old_limit):
                    change = f"tightened {keyword} from {old_limit} to {new_limit}"
                else:
                    continue
                self.add(
                    path,
                    change,
                    f"{self.old} messages with {having.format(_subject(path))} would be rejected",
                )

    def _pattern(self, path: str, old: dict, new: dict) -> None:
        new_pattern = new.get("pattern")
        old_pattern = old.get("pattern")
        if new_pattern is None or new_pattern == old_pattern:
            return
        change = (
            f"added pattern {new_pattern!r}"
            if old_pattern is None
            else f"changed pattern from {old_pattern!r} to {new_pattern!r}"
        )
        self.add(
            path,
            change,
            f"{self.old} messages whose {_subject(path)} does not match it would be rejected",
        )

    # ------------------------------------------------------------------ containers

    def _object(self, path: str, old: dict, new: dict) -> None:
        old_props: dict = old.get("properties", {})
        new_props: dict = new.get("properties", {})
        old_extra = _extra_schema(old)
        new_extra = _extra_schema(new)
        added = [name for name in new_props if name not in old_props]

        for name, old_prop in old_props.items():
            child = _child(path, name)
            if name in new_props:
                self.compare(child, old_prop, new_props[name])
                continue
            renamed = [other for other in added if _same_rules(old_prop, new_props[other])]
            hint = (
                f"; it looks renamed to {renamed[0]!r}: keep {name!r} beside it instead"
                if renamed
                else ""
            )
            consequence = (
                f"{self.old} messages that carry it would be rejected"
                if new_extra is None
                else "consumers that read it would no longer get it"
            )
            self.add(child, f"was removed{hint}", consequence)

        if old_extra is not None:
            # The old version accepted this name as an undeclared property, with
            # only the rules undeclared properties had; the new rules must accept that.
            for name in added:
                looser = _Diff(self.old)
                looser.compare(_child(path, name), old_extra, new_props[name])
                if looser.found:
                    _, first_change, _ = looser.found[0]
                    self.add(
                        _child(path, name),
                        f"was added, but {self.old} accepted it as an undeclared property "
                        f"with fewer rules (it {first_change})",
                        f"{self.old} messages that sent their own {name!r} would be rejected",
                    )

        old_required = set(old.get("required", ()))
        for name in new.get("required", ()):
            if name in old_required:
                continue
            existed = name in old_props
            self.add(
                _child(path, name),
                "became required" if existed else "was added as a required property",
                f"{self.old} messages without it would be rejected",
            )

        # The sink reads required fields without a fallback and stores them in NOT
        # NULL columns, so a field that may now be missing breaks the consumer even
        # though every old message stays valid.
        new_required = set(new.get("required", ()))
        for name in sorted(old_required - new_required):
            if name in new_props:
                self.add(
                    _child(path, name),
                    "stopped being required",
                    "consumers that rely on it being present (the sink's NOT NULL "
                    "columns) would fail on messages without it",
                )

        if old_extra is not None and new_extra is None:
            before = _show_json(old.get("additionalProperties", True))
            self.add(
                path,
                f"changed additionalProperties from {before} to false",
                f"{self.old} messages with properties it does not declare would be rejected",
            )
        elif old_extra is not None and new_extra is not None and (old_extra or new_extra):
            self.compare(_child(path, "*"), old_extra, new_extra)

    def _items(self, path: str, old: dict, new: dict) -> None:
        if "items" not in old and "items" not in new:
            return
        # 2020-12 has no tuple form of items (that is prefixItems, compared verbatim).
        self.compare(f"{path}[]", old.get("items", True), new.get("items", True))

    def _verbatim(self, path: str, old: dict, new: dict) -> None:
        for keyword in sorted((old.keys() | new.keys()) - _UNDERSTOOD - _ANNOTATIONS):
            before, after = old.get(keyword, _MISSING), new.get(keyword, _MISSING)
            if before != after:
                self.add(
                    path,
                    f"changed {keyword!r} from {_show_json(before)} to {_show_json(after)}",
                    f"this checker cannot prove {self.old} messages stay valid; "
                    "review it by hand or leave the keyword as it was",
                )


# --------------------------------------------------------------------------- helpers


def _schema_error(schema: Any) -> str | None:
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as error:
        where = "/".join(str(part) for part in error.absolute_path) or "(top level)"
        return f"{error.message[:200]} at {where}"
    return None


def _where(path: str) -> str:
    """How a problem names the place: paths are dotted, ``*`` undeclared, ``[]`` items."""
    if not path:
        return "the payload"
    if path.endswith("[]"):
        return f"items of {_where(path[:-2])}"
    if path == "*" or path.endswith(".*"):
        return f"undeclared properties of {_where(path[:-2])}"
    return f"property {path!r}"


def _subject(path: str, article: bool = False) -> str:
    """The thing a message sends at ``path``, to read as "with (a longer) <subject>"."""
    if path and not path.endswith(("[]", "*")):
        return repr(path.rsplit(".", 1)[-1])
    if not path:
        noun = "payload"
    elif path.endswith("[]"):
        noun = f"item in {_subject(path[:-2])}"
    else:
        noun = "undeclared property"
    if not article:
        return noun
    return f"an {noun}" if noun[0] in "aeiou" else f"a {noun}"


def _child(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _declared_types(schema: dict) -> frozenset[str] | None:
    declared = schema.get("type")
    if declared is None:
        return None
    return frozenset([declared] if isinstance(declared, str) else declared)


def _value_types(schema: dict) -> frozenset[str] | None:
    """The types an untyped enum/const allows: adding the matching type narrows nothing."""
    values = _allowed_values(schema)
    return None if values is None else frozenset(_json_type(value) for value in values)


def _json_type(value: Any) -> str:
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


def _covered(old_type: str, new_types: frozenset[str]) -> bool:
    return old_type in new_types or (old_type == "integer" and "number" in new_types)


def _allowed_values(schema: dict) -> list[Any] | None:
    if "const" in schema:
        values = [schema["const"]]
        if "enum" in schema:
            values = [value for value in values if _value_key(value) in _keys(schema["enum"])]
        return values
    return list(schema["enum"]) if "enum" in schema else None


def _keys(values: list[Any]) -> set[str]:
    return {_value_key(value) for value in values}


def _value_key(value: Any) -> str:
    """Type-aware identity: in Python ``True == 1``, in JSON Schema they differ."""
    return json.dumps(value, sort_keys=True)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _bound(schema: dict, inclusive: str, exclusive: str, upper: bool) -> tuple[float, bool] | None:
    """The effective (value, strict) bound when both keywords are present."""
    found = [
        (schema[keyword], strict)
        for keyword, strict in ((inclusive, False), (exclusive, True))
        if _is_number(schema.get(keyword))
    ]
    if not found:
        return None
    # Tightest wins; at equal values the strict one is tighter.
    return min(found, key=lambda b: (b[0], not b[1])) if upper else max(found)


def _tighter(old: tuple[float, bool] | None, new: tuple[float, bool], upper: bool) -> bool:
    if old is None:
        return True
    (old_value, old_strict), (new_value, new_strict) = old, new
    if new_value != old_value:
        return new_value < old_value if upper else new_value > old_value
    return new_strict and not old_strict


def _show_bound(bound: tuple[float, bool] | None, keywords: tuple[str, str]) -> str:
    if bound is None:
        return "none"
    value, strict = bound
    return f"{keywords[1] if strict else keywords[0]} {value}"


def _extra_schema(schema: dict) -> Any:
    """The rule undeclared properties must follow, or None when they are refused."""
    extra = schema.get("additionalProperties", True)
    if extra is False:
        return None
    return {} if extra is True else extra


def _same_rules(first: Any, second: Any) -> bool:
    """Equal apart from annotations: a removed and an added property like this are a rename."""
    return _strip_annotations(first) == _strip_annotations(second)


def _strip_annotations(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {k: _strip_annotations(v) for k, v in schema.items() if k not in _ANNOTATIONS}
    if isinstance(schema, list):
        return [_strip_annotations(item) for item in schema]
    return schema


def _show_type(declared: Any) -> str:
    if declared is None:
        return "any type"
    if isinstance(declared, list):
        return "[" + ",".join(repr(item) for item in declared) + "]"
    return repr(declared)


def _show_values(values: list[Any]) -> str:
    return ", ".join(_show_json(value) for value in values)


def _show_json(value: Any) -> str:
    if value is _MISSING:
        return "absent"
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "..."


def _title(schema: Any, fallback: str) -> str:
    title = schema.get("title") if isinstance(schema, dict) else None
    return title if isinstance(title, str) and title else fallback


def _version_label(schema: Any) -> str:
    """``v2`` from a title like ``survey v2``; the whole title if it has no version."""
    title = _title(schema, "previous-version")
    match = re.search(r"\bv(\d+)$", title)
    return f"v{match.group(1)}" if match else title


# --------------------------------------------------------------------------- files


def _as_folder(folder: str | os.PathLike[str] | Traversable | None) -> Traversable:
    if folder is None:
        return contracts_folder()
    if isinstance(folder, str | os.PathLike):
        return Path(folder)
    return folder


def _load(entry: Traversable, event_type: str, version: int) -> tuple[dict | None, list[str]]:
    """The schema (None if unusable) and what is wrong with the file on its own."""
    name = entry.name
    try:
        schema = json.loads(entry.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        return None, [f"{name}: not UTF-8 text"]
    except json.JSONDecodeError as error:
        return None, [f"{name}: not valid JSON ({error.msg} at line {error.lineno})"]
    if not isinstance(schema, dict):
        return None, [f"{name}: the top level is a JSON {type(schema).__name__}, not an object"]
    problem = _schema_error(schema)
    if problem is not None:
        return None, [f"{name}: not a valid JSON Schema: {problem}"]
    problems = []
    try:
        # Compiled exactly as the pipeline will: a regex only Python's re rejects
        # would make every message of this version fail at runtime.
        compile_contract(schema)
    except Exception as error:  # fastjsonschema raises several unrelated types
        problems.append(f"{name}: the pipeline's validator cannot compile it: {error}")
    for keyword, expected in (
        ("$id", f"voc/{event_type}/{version}"),
        ("title", f"{event_type} v{version}"),
    ):
        if schema.get(keyword) != expected:
            problems.append(
                f"{name}: {keyword!r} is {_show_json(schema.get(keyword, _MISSING))}, but the "
                f"file name says {event_type} v{version}; expected {expected!r}"
            )
    return schema, problems


def check_contract_family(folder: str | os.PathLike[str] | Traversable | None = None) -> list[str]:
    """Everything wrong with a folder of contracts; empty if the family is sound.

    For CI: per event type the versions must run 1..N without gaps (a publisher
    on a missing version would be dead-lettered), each file must be a usable
    schema whose ``$id`` and ``title`` agree with its name, and each version
    must be compatible with the one before it. ``folder`` defaults to the
    packaged ``schemas``.
    """
    root = _as_folder(folder)
    problems: list[str] = []
    present: dict[str, list[int]] = {}
    loaded: dict[tuple[str, int], dict] = {}
    for entry in sorted(root.iterdir(), key=lambda item: item.name):
        if not entry.name.endswith(".json") or not entry.is_file():
            continue
        match = CONTRACT_FILE.match(entry.name)
        if match is None:
            problems.append(
                f"{entry.name}: not named <event_type>.v<N>.json (lowercase type, N from 1 "
                "without leading zeros), so the pipeline would never load it"
            )
            continue
        event_type, version = match["event_type"], int(match["version"])
        present.setdefault(event_type, []).append(version)
        schema, file_problems = _load(entry, event_type, version)
        problems.extend(file_problems)
        if schema is not None:
            loaded[event_type, version] = schema

    for event_type, versions in sorted(present.items()):
        versions.sort()
        missing = sorted(set(range(1, versions[-1] + 1)) - set(versions))
        if missing:
            problems.append(
                f"{event_type}: version(s) {', '.join(f'v{v}' for v in missing)} missing; "
                f"versions must run from v1 to v{versions[-1]} without gaps"
            )
        for before, after in itertools.pairwise(versions):
            if (event_type, before) in loaded and (event_type, after) in loaded:
                problems.extend(
                    _compatibility(
                        loaded[event_type, before],
                        loaded[event_type, after],
                        new_label=f"{event_type} v{after}",
                        old_label=f"v{before}",
                    )
                )
    return problems


def check_candidate(path: str | os.PathLike[str]) -> list[str]:
    """Everything that stops one candidate contract file from shipping; empty if it may.

    The file must be named ``<event_type>.v<N>.json`` and is compared with
    version N-1 among the packaged contracts. Version 1 of a new event type has
    nothing to be compatible with; a shipped version may not be changed in
    place, since messages already published under it rely on it.
    """
    candidate = Path(path)
    name = candidate.name
    match = CONTRACT_FILE.match(name)
    if match is None:
        return [
            f"{name}: a contract file must be named <event_type>.v<N>.json (lowercase type, "
            "N from 1 without leading zeros), e.g. survey.v3.json"
        ]
    if not candidate.is_file():
        return [f"{path}: no such file"]
    event_type, version = match["event_type"], int(match["version"])
    schema, problems = _load(candidate, event_type, version)
    if schema is None:
        return problems

    shipped = contracts_folder()
    same_version = shipped / name
    if same_version.is_file() and _read_json(same_version) != schema:
        problems.append(
            f"{name}: {event_type} v{version} already ships and this file differs from it; "
            f"shipped contracts never change, publish the change as a new version instead"
        )
    if version == 1:
        return problems
    previous = shipped / contract_file_name(event_type, version - 1)
    if not previous.is_file():
        shipped_versions = sorted(
            int(found["version"])
            for entry in shipped.iterdir()
            if (found := CONTRACT_FILE.match(entry.name)) and found["event_type"] == event_type
        )
        expected = (
            f"the latest shipped is v{shipped_versions[-1]}, so the next is "
            f"{contract_file_name(event_type, shipped_versions[-1] + 1)}"
            if shipped_versions
            else f"no {event_type} contract ships yet, so start at {event_type}.v1.json"
        )
        problems.append(
            f"{name}: there is no {event_type} v{version - 1} to be compatible with; {expected}"
        )
        return problems
    problems.extend(
        _compatibility(
            _read_json(previous),
            schema,
            new_label=f"{event_type} v{version}",
            old_label=f"v{version - 1}",
        )
    )
    return problems


def _read_json(entry: Traversable) -> Any:
    return json.loads(entry.read_text(encoding="utf-8"))
