"""Reading taxonomy YAML: line numbers for every value, packs, and ``extends``.

A taxonomy is edited by people who are not programmers, so every problem is
reported as "file:line: field: problem", one line each, and all of them at once:
fixing one fault per run of the checker is how a routing file gets abandoned. To
know the line of every value, the YAML is loaded into dicts and lists that remember
where each of their items was written, and which file it came from (a company file
that extends a pack mixes two files).

``extends`` merges a company file onto a pack (or onto another file, by path):
departments, concepts and abbreviations are merged by name, ``drop`` removes causes,
``rename`` renames them, and a cause whose id is already there is merged key by key:
rule lists grow, other keys are replaced (``replace: true`` replaces the whole cause).
"""

from __future__ import annotations

import importlib.resources
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "PACKS_PACKAGE",
    "Located",
    "LocatedDict",
    "LocatedList",
    "Problems",
    "available_packs",
    "read_pack",
    "read_taxonomy_text",
    "resolve_extends",
]

PACKS_PACKAGE = "voc.schemas"
_PACKS_DIR = ("tagging", "packs")
_RULE_LISTS = ("phrases", "near", "numbers", "regex", "patterns", "exclude", "subcauses")
_MAX_EXTENDS_DEPTH = 8


@dataclass(frozen=True)
class Located:
    source: str
    line: int  # 1-based; 0 when unknown


class LocatedDict(dict):
    """A YAML mapping that remembers its file and the line of each key."""

    source: str = ""
    line: int = 0
    key_lines: dict[Any, int]

    def where(self, key: Any = None) -> Located:
        lines = getattr(self, "key_lines", {})
        return Located(self.source, lines.get(key, self.line) if key is not None else self.line)


class LocatedList(list):
    """A YAML sequence that remembers its file and the line of each item."""

    source: str = ""
    line: int = 0
    item_lines: list[int]

    def where(self, position: int | None = None) -> Located:
        lines = getattr(self, "item_lines", [])
        if position is not None and position < len(lines):
            return Located(self.source, lines[position])
        return Located(self.source, self.line)


@dataclass
class Problems:
    """Every problem found in a taxonomy, each one line: "file:line: field: problem"."""

    lines: list[str] = field(default_factory=list)

    def add(self, where: Located, subject: str, problem: str) -> None:
        place = f"{where.source}:{where.line}" if where.line else where.source
        text = f"{place}: {subject}: {problem}" if subject else f"{place}: {problem}"
        self.lines.append(text.replace("\r", " ").replace("\n", " "))

    def __bool__(self) -> bool:
        return bool(self.lines)


def read_taxonomy_text(text: str, source: str, problems: Problems) -> LocatedDict | None:
    """Parse YAML into located mappings; None (with a problem) when it cannot be read."""
    loader = _LocatingLoader(text)
    loader.source_name = source
    try:
        document = loader.get_single_data()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = error.problem or error.context or "syntax error"
        problems.add(Located(source, mark.line + 1 if mark else 0), "", f"invalid YAML: {problem}")
        return None
    except yaml.YAMLError as error:
        problems.add(Located(source, 0), "", f"invalid YAML: {error}")
        return None
    finally:
        loader.dispose()
    if not isinstance(document, LocatedDict):
        problems.add(
            Located(source, 1), "", "top level must be a mapping (version, departments, causes)"
        )
        return None
    return document


def available_packs() -> tuple[str, ...]:
    """Names of the industry packs shipped with voc."""
    folder = importlib.resources.files(PACKS_PACKAGE).joinpath(*_PACKS_DIR)
    return tuple(
        sorted(
            entry.name.removesuffix(".yaml")
            for entry in folder.iterdir()
            if entry.name.endswith(".yaml")
        )
    )


def read_pack(name: str, problems: Problems, where: Located | None = None) -> LocatedDict | None:
    """A shipped pack's document (found through importlib.resources, so it works
    from a wheel or a Dataflow worker)."""
    if name not in available_packs():
        problems.add(
            where or Located(name, 0),
            "pack",
            f"unknown taxonomy pack {name!r} (available: {', '.join(available_packs())})",
        )
        return None
    resource = importlib.resources.files(PACKS_PACKAGE).joinpath(*_PACKS_DIR, f"{name}.yaml")
    return read_taxonomy_text(
        resource.read_text(encoding="utf-8"), f"schemas/tagging/packs/{name}.yaml", problems
    )


def resolve_extends(
    document: LocatedDict, base_dir: Path | None, problems: Problems, depth: int = 0
) -> LocatedDict:
    """The document with its ``extends`` chain merged in (the document wins)."""
    parent_name = document.get("extends")
    if parent_name is None:
        return document
    where = document.where("extends")
    if not isinstance(parent_name, str) or not parent_name.strip():
        problems.add(where, "extends", "must name a pack or a taxonomy file")
        return document
    if depth >= _MAX_EXTENDS_DEPTH:
        problems.add(where, "extends", f"chain deeper than {_MAX_EXTENDS_DEPTH} (a cycle?)")
        return document
    parent: LocatedDict | None
    parent_dir = base_dir
    if parent_name.endswith((".yaml", ".yml")) or "/" in parent_name:
        path = Path(parent_name)
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            problems.add(where, "extends", f"cannot read {parent_name}: {error}")
            return document
        parent = read_taxonomy_text(text, str(path), problems)
        parent_dir = path.parent
    else:
        parent = read_pack(parent_name, problems, where)
        parent_dir = None
    if parent is None:
        return document
    parent = resolve_extends(parent, parent_dir, problems, depth + 1)
    return _merge(parent, document, problems)


def _merge(parent: LocatedDict, child: LocatedDict, problems: Problems) -> LocatedDict:
    merged = LocatedDict(parent)
    merged.source, merged.line = child.source, child.line
    merged.key_lines = dict(getattr(parent, "key_lines", {}))
    for key, value in child.items():
        if key in ("extends", "drop", "rename"):
            continue
        merged.key_lines[key] = child.key_lines.get(key, child.line)
        if key in ("departments", "concepts", "abbreviations") and isinstance(
            parent.get(key), dict
        ):
            merged[key] = _merge_named(parent[key], value, concat=key == "concepts")
        elif key == "causes":
            continue
        else:
            merged[key] = value
    merged["causes"] = _merge_causes(parent.get("causes"), child, problems)
    return merged


def _merge_named(parent: LocatedDict, child: Any, concat: bool) -> Any:
    if not isinstance(child, dict):
        return child
    merged = LocatedDict(parent)
    merged.source, merged.line = getattr(child, "source", ""), getattr(child, "line", 0)
    merged.key_lines = dict(getattr(parent, "key_lines", {}))
    for key, value in child.items():
        merged.key_lines[key] = getattr(child, "key_lines", {}).get(key, 0)
        if concat and isinstance(parent.get(key), list) and isinstance(value, list):
            merged[key] = _concat(parent[key], value)
        else:
            merged[key] = value
    return merged


def _concat(first: list, second: list) -> LocatedList:
    joined = LocatedList([*first, *second])
    joined.source = getattr(second, "source", "")
    joined.line = getattr(second, "line", 0)
    joined.item_lines = [
        *getattr(first, "item_lines", [0] * len(first)),
        *getattr(second, "item_lines", [0] * len(second)),
    ]
    return joined


def _merge_causes(parent_causes: Any, child: LocatedDict, problems: Problems) -> LocatedList:
    causes = LocatedList(c for c in (parent_causes or []) if isinstance(c, dict))
    by_id = {cause.get("id"): position for position, cause in enumerate(causes)}
    dropped = child.get("drop") or []
    if not isinstance(dropped, list):
        problems.add(child.where("drop"), "drop", "must be a list of cause ids")
        dropped = []
    for position, cause_id in enumerate(dropped):
        if cause_id not in by_id:
            where = dropped.where(position) if isinstance(dropped, LocatedList) else child.where()
            problems.add(where, "drop", f"no cause {cause_id!r} to drop in the extended taxonomy")
    causes = LocatedList(c for c in causes if c.get("id") not in set(dropped))
    renames = child.get("rename") or {}
    if not isinstance(renames, dict):
        problems.add(child.where("rename"), "rename", "must map old cause ids to new ones")
        renames = {}
    by_id = {cause.get("id"): position for position, cause in enumerate(causes)}
    for old, new in renames.items():
        if old not in by_id:
            problems.add(child.where("rename"), "rename", f"no cause {old!r} to rename")
            continue
        renamed = LocatedDict(causes[by_id[old]])
        _copy_location(causes[by_id[old]], renamed)
        renamed["id"] = new
        causes[by_id[old]] = renamed
    by_id = {cause.get("id"): position for position, cause in enumerate(causes)}
    own = child.get("causes") or []
    for cause in own if isinstance(own, list) else []:
        if not isinstance(cause, LocatedDict) or cause.get("id") not in by_id:
            causes.append(cause)
            continue
        base = causes[by_id[cause["id"]]]
        if cause.get("replace") is True:
            replaced = LocatedDict((k, v) for k, v in cause.items() if k != "replace")
            _copy_location(cause, replaced)
            causes[by_id[cause["id"]]] = replaced
            continue
        combined = LocatedDict(base)
        _copy_location(base, combined)
        for key, value in cause.items():
            if key in _RULE_LISTS and isinstance(base.get(key), list) and isinstance(value, list):
                combined[key] = _concat(base[key], value)
            else:
                combined[key] = value
            combined.key_lines[key] = cause.key_lines.get(key, cause.line)
        causes[by_id[cause["id"]]] = combined
    return causes


def _copy_location(origin: Any, target: LocatedDict) -> None:
    target.source = getattr(origin, "source", "")
    target.line = getattr(origin, "line", 0)
    target.key_lines = dict(getattr(origin, "key_lines", {}))


# libyaml's parser when PyYAML was built with it: the packs are long, and the pure
# Python parser takes seconds to read them.
_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LocatingLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """SafeLoader building LocatedDict/LocatedList and rejecting duplicate keys (PyYAML
    otherwise keeps the last of two equal keys without a word)."""

    source_name = ""


def _construct_mapping(loader: _LocatingLoader, node: yaml.MappingNode) -> LocatedDict:
    loader.flatten_mapping(node)
    mapping = LocatedDict()
    mapping.source = loader.source_name
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.key_lines[key] = key_node.start_mark.line + 1
    return mapping


def _construct_sequence(loader: _LocatingLoader, node: yaml.SequenceNode) -> LocatedList:
    sequence = LocatedList(loader.construct_object(child, deep=True) for child in node.value)
    sequence.source = loader.source_name
    sequence.line = node.start_mark.line + 1
    sequence.item_lines = [child.start_mark.line + 1 for child in node.value]
    return sequence


_LocatingLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,  # type: ignore[arg-type]
)
_LocatingLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG,
    _construct_sequence,  # type: ignore[arg-type]
)
