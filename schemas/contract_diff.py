"""Name every change between two versions of a contract that would break the old one's readers.

A new version may only *add* (the policy, and why, is in ``compatibility``).
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

from dataclasses import dataclass, field
from typing import Any

from voc.schemas.schema_fragments import (
    MISSING,
    allowed_values,
    bound,
    child,
    covered,
    declared_types,
    extra_schema,
    is_number,
    schema_error,
    show_bound,
    show_json,
    show_type,
    show_values,
    subject,
    tighter,
    value_key,
    value_types,
    where,
)

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


def compare_versions(previous: Any, candidate: Any, new_label: str, old_label: str) -> list[str]:
    """One line per breaking change, prefixed with ``new_label``; ``old_label`` names
    the previous version inside the lines. If either schema is not a valid JSON
    Schema, only that is reported."""
    invalid = [
        f"{new_label}: the {which} schema is not a valid JSON Schema: {problem}"
        for which, schema in (("previous", previous), ("candidate", candidate))
        if (problem := schema_error(schema)) is not None
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
            f"{where(path)} {change} (breaking: {consequence})"
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
        new_types = declared_types(new)
        if new_types is None:
            return  # any type is accepted now
        old_types = declared_types(old) or value_types(old)
        if old_types is None:
            lost = "another type"
        else:
            narrowed = sorted(t for t in old_types if not covered(t, new_types))
            if not narrowed:
                return
            lost = " or ".join(narrowed)
        self.add(
            path,
            f"changed type from {show_type(old.get('type'))} to {show_type(new['type'])}",
            f"{self.old} messages with {subject(path, article=True)} of {lost} would be rejected",
        )

    def _values(self, path: str, old: dict, new: dict) -> None:
        new_values = allowed_values(new)
        if new_values is None:
            return
        old_values = allowed_values(old)
        if old_values is None:
            self.add(
                path,
                f"is now restricted to {show_values(new_values)}",
                f"{self.old} messages with any other value would be rejected",
            )
            return
        kept = {value_key(value) for value in new_values}
        lost = [value for value in old_values if value_key(value) not in kept]
        if lost:
            self.add(
                path,
                f"no longer allows {show_values(lost)} (enum narrowed from "
                f"{show_values(old_values)} to {show_values(new_values)})",
                f"{self.old} messages with those values would be rejected",
            )

    def _bounds(self, path: str, old: dict, new: dict) -> None:
        for side, keywords, beyond in (
            ("lower", ("minimum", "exclusiveMinimum"), "smaller"),
            ("upper", ("maximum", "exclusiveMaximum"), "larger"),
        ):
            old_bound = bound(old, *keywords, upper=side == "upper")
            new_bound = bound(new, *keywords, upper=side == "upper")
            if new_bound is None or not tighter(old_bound, new_bound, upper=side == "upper"):
                continue
            self.add(
                path,
                f"tightened its {side} bound from {show_bound(old_bound, keywords)} "
                f"to {show_bound(new_bound, keywords)}",
                f"{self.old} messages with a {beyond} {subject(path)} would be rejected",
            )

    def _counts(self, path: str, old: dict, new: dict) -> None:
        for keywords, upper in ((_MIN_COUNTS, False), (_MAX_COUNTS, True)):
            for keyword, having in keywords:
                new_limit = new.get(keyword)
                if not is_number(new_limit):
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
                    f"{self.old} messages with {having.format(subject(path))} would be rejected",
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
            f"{self.old} messages whose {subject(path)} does not match it would be rejected",
        )

    # ------------------------------------------------------------------ containers

    def _object(self, path: str, old: dict, new: dict) -> None:
        old_props: dict = old.get("properties", {})
        new_props: dict = new.get("properties", {})
        old_extra = extra_schema(old)
        new_extra = extra_schema(new)
        added = [name for name in new_props if name not in old_props]

        for name, old_prop in old_props.items():
            place = child(path, name)
            if name in new_props:
                self.compare(place, old_prop, new_props[name])
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
            self.add(place, f"was removed{hint}", consequence)

        if old_extra is not None:
            # The old version accepted this name as an undeclared property, with
            # only the rules undeclared properties had; the new rules must accept that.
            for name in added:
                looser = _Diff(self.old)
                looser.compare(child(path, name), old_extra, new_props[name])
                if looser.found:
                    _, first_change, _ = looser.found[0]
                    self.add(
                        child(path, name),
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
                child(path, name),
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
                    child(path, name),
                    "stopped being required",
                    "consumers that rely on it being present (the sink's NOT NULL "
                    "columns) would fail on messages without it",
                )

        if old_extra is not None and new_extra is None:
            before = show_json(old.get("additionalProperties", True))
            self.add(
                path,
                f"changed additionalProperties from {before} to false",
                f"{self.old} messages with properties it does not declare would be rejected",
            )
        elif old_extra is not None and new_extra is not None and (old_extra or new_extra):
            self.compare(child(path, "*"), old_extra, new_extra)

    def _items(self, path: str, old: dict, new: dict) -> None:
        if "items" not in old and "items" not in new:
            return
        # 2020-12 has no tuple form of items (that is prefixItems, compared verbatim).
        self.compare(f"{path}[]", old.get("items", True), new.get("items", True))

    def _verbatim(self, path: str, old: dict, new: dict) -> None:
        for keyword in sorted((old.keys() | new.keys()) - _UNDERSTOOD - _ANNOTATIONS):
            before, after = old.get(keyword, MISSING), new.get(keyword, MISSING)
            if before != after:
                self.add(
                    path,
                    f"changed {keyword!r} from {show_json(before)} to {show_json(after)}",
                    f"this checker cannot prove {self.old} messages stay valid; "
                    "review it by hand or leave the keyword as it was",
                )


def _same_rules(first: Any, second: Any) -> bool:
    """Equal apart from annotations: a removed and an added property like this are a rename."""
    return _strip_annotations(first) == _strip_annotations(second)


def _strip_annotations(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {k: _strip_annotations(v) for k, v in schema.items() if k not in _ANNOTATIONS}
    if isinstance(schema, list):
        return [_strip_annotations(item) for item in schema]
    return schema
