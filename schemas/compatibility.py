"""Keep every new version of an event contract readable by everything built on the old one.

Publishers move to a new contract version at their own pace, so for a while one
stream carries several versions of an event type, and everything downstream (the
sink's columns, department queries, dashboards) was written against the older
one. A new version may therefore only *add*: every message valid under version
N-1 must stay valid under version N, and no field that consumers read may
disappear. Anything else must be a new event type, not a new version.

This module holds the entry points of ``voc schema check`` and CI: one pair of
schemas, one candidate file, or the whole folder of contracts. Which changes
break the old version, and how that is decided, is in ``contract_diff``.
"""

from __future__ import annotations

import itertools
import json
import os
import re
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from voc.schemas.contract_diff import compare_versions
from voc.schemas.contracts import compile_contract, contract_file_name, contracts_folder
from voc.schemas.schema_fragments import MISSING, schema_error, show_json

__all__ = [
    "CONTRACT_FILE",
    "check_candidate",
    "check_contract_family",
    "compatibility_problems",
]

# parse_event loads contract_file_name(event_type, int(schema_version)), so a
# leading zero or a version 0 names a file it would never load.
CONTRACT_FILE = re.compile(r"^(?P<event_type>[a-z][a-z0-9_]*)\.v(?P<version>[1-9][0-9]*)\.json$")


# --------------------------------------------------------------------------- one pair


def compatibility_problems(previous: dict[str, Any], candidate: dict[str, Any]) -> list[str]:
    """One line per change that would break consumers of ``previous``; empty if none.

    Lines are prefixed with the candidate's title (e.g. ``survey v3``) and name
    the previous version by its title's version (``v2``), so they read the same
    in a CI log as in ``voc schema check``.
    """
    return compare_versions(
        previous,
        candidate,
        new_label=_title(candidate, "candidate"),
        old_label=_version_label(previous),
    )


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
    problem = schema_error(schema)
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
                f"{name}: {keyword!r} is {show_json(schema.get(keyword, MISSING))}, but the "
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
                    compare_versions(
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
        compare_versions(
            _read_json(previous),
            schema,
            new_label=f"{event_type} v{version}",
            old_label=f"v{version - 1}",
        )
    )
    return problems


def _read_json(entry: Traversable) -> Any:
    return json.loads(entry.read_text(encoding="utf-8"))
