"""The root-cause taxonomy: causes, the departments that own them, and loading it from YAML.

The taxonomy is a routing file edited by hand, and a mistake in it fails silently:
feedback goes to the wrong team or to nobody, and nobody notices for weeks. So it is
validated completely and strictly when it is read (unknown keys, duplicate keys,
unknown departments or signals, patterns that match empty text are all errors), and
every problem is reported in one line naming the file and the fault.

A Taxonomy also carries what matching needs precomputed: the prefilter's index of
its patterns (voc.transforms.pattern_prefilter), the route of every cause, and its
signal thresholds. voc.transforms.match_root_causes does the matching.
"""

from __future__ import annotations

import importlib.resources
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from voc.transforms.pattern_prefilter import PatternIndex, build_index

__all__ = [
    "SIGNAL_FIELDS",
    "TAXONOMY_VERSION",
    "TRIAGE_DEPARTMENT",
    "UNCLASSIFIED",
    "Cause",
    "Taxonomy",
    "TaxonomyError",
    "load_taxonomy",
    "parse_taxonomy",
]

# Feedback that matches no cause is still a customer telling us something went wrong
# (or right); dropping it would hide exactly the problems the taxonomy does not know
# yet. It is therefore tagged with this pseudo-cause and routed to the team that
# triages support feedback, whose review is also how new causes get discovered.
UNCLASSIFIED = "unclassified"
TRIAGE_DEPARTMENT = "support_ops"

TAXONOMY_VERSION = 1

# Signal names in the taxonomy -> the agent-note field each one compares against.
# Only ">=" thresholds exist because every operational signal we route on is "too
# much of something" (waiting, transfers, handling time).
SIGNAL_FIELDS: Mapping[str, str] = {
    "hold_seconds_gte": "hold_seconds",
    "transfers_gte": "transfers",
    "handle_seconds_gte": "handle_seconds",
}

_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_TOP_KEYS = frozenset({"version", "departments", "causes"})
_CAUSE_KEYS = frozenset({"id", "description", "department", "patterns", "signals"})
_REQUIRED_CAUSE_KEYS = ("id", "description", "department")


class TaxonomyError(ValueError):
    """A taxonomy file that cannot be used, described in one line naming file and problem.

    One line, because the message ends up in CLI output and worker logs where the
    person fixing the YAML needs to see the file and the fault at a glance.
    """


@dataclass(frozen=True)
class Cause:
    """One root cause: who owns it, and what in the text or the note's numbers reveals it."""

    id: str
    description: str
    department: str
    patterns: tuple[re.Pattern[str], ...] = ()
    # Signal name (a key of SIGNAL_FIELDS) -> threshold; any one reaching it is enough.
    signals: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Taxonomy:
    """A validated set of causes and the departments that own them.

    Build it with load_taxonomy or parse_taxonomy, which validate; constructing it
    directly is possible (tests do) but skips validation.
    """

    version: int
    departments: dict[str, str]
    causes: tuple[Cause, ...]
    _index: PatternIndex = field(init=False, repr=False, compare=False)
    _departments_by_cause: dict[str, str] = field(init=False, repr=False, compare=False)
    # (cause index, note field, threshold) for every signal, in cause order: most
    # causes have none, so an event with signals checks only these.
    _signal_rules: tuple[tuple[int, str, float], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", build_index([cause.patterns for cause in self.causes]))
        rules = tuple(
            (cause_index, SIGNAL_FIELDS[name], threshold)
            for cause_index, cause in enumerate(self.causes)
            for name, threshold in cause.signals.items()
        )
        object.__setattr__(self, "_signal_rules", rules)
        routes = {cause.id: cause.department for cause in self.causes}
        routes[UNCLASSIFIED] = TRIAGE_DEPARTMENT
        object.__setattr__(self, "_departments_by_cause", routes)

    def department_for(self, cause_id: str) -> str:
        """Return the department owning cause_id (UNCLASSIFIED goes to triage).

        Raises KeyError for an unknown cause, because silently routing a typo
        somewhere would lose the feedback.
        """
        return self._departments_by_cause[cause_id]

    @property
    def cause_ids(self) -> tuple[str, ...]:
        """Cause ids in taxonomy order, which is also the order matches are reported in."""
        return tuple(cause.id for cause in self.causes)


# --------------------------------------------------------------------------- loading


def load_taxonomy(path: str | Path | None = None) -> Taxonomy:
    """Read and validate a taxonomy file; None means the default packaged with voc.

    The default is found through importlib.resources so it works from an installed
    wheel or a Dataflow worker, not only from a source checkout.
    """
    if path is None:
        resource = importlib.resources.files("voc.schemas") / "tagging" / "taxonomy.yaml"
        source = "schemas/tagging/taxonomy.yaml"
        try:
            text = resource.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise TaxonomyError(f"{source}: cannot read packaged taxonomy: {error}") from error
        return parse_taxonomy(text, source)
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise TaxonomyError(f"{source}: not valid UTF-8: {error.reason}") from error
    except OSError as error:
        reason = error.strerror or str(error)
        raise TaxonomyError(f"{source}: cannot read taxonomy: {reason}") from error
    return parse_taxonomy(text, source)


def parse_taxonomy(text: str, source: str) -> Taxonomy:
    """Validate taxonomy YAML given as text; source names it in error messages.

    Validation is complete and strict (unknown keys are errors) because a typo in a
    routing file otherwise fails silently: feedback goes to the wrong team or to
    nobody, and nobody notices for weeks.
    """
    try:
        document = yaml.load(text, Loader=_StrictLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = error.problem or error.context or "syntax error"
        raise _error(source, f"invalid YAML{where}: {problem}") from error
    except yaml.YAMLError as error:
        raise _error(source, f"invalid YAML: {error}") from error

    if not isinstance(document, dict):
        raise _error(source, "top level must be a mapping with version, departments and causes")
    unknown = sorted(str(key) for key in document if key not in _TOP_KEYS)
    if unknown:
        raise _error(source, f"unknown top-level key(s): {', '.join(unknown)}")
    for key in ("version", "departments", "causes"):
        if key not in document:
            raise _error(source, f"missing required key '{key}'")

    version = document["version"]
    if isinstance(version, bool) or not isinstance(version, int):
        raise _error(source, f"version must be the integer {TAXONOMY_VERSION}, got {version!r}")
    if version != TAXONOMY_VERSION:
        raise _error(
            source, f"unsupported version {version} (this voc reads version {TAXONOMY_VERSION})"
        )

    departments = _parse_departments(document["departments"], source)

    raw_causes = document["causes"]
    if not isinstance(raw_causes, list) or not raw_causes:
        raise _error(source, "'causes' must be a non-empty list")
    causes: list[Cause] = []
    seen: set[str] = set()
    for position, raw in enumerate(raw_causes, start=1):
        cause = _parse_cause(raw, position, departments, source)
        if cause.id in seen:
            raise _error(source, f"duplicate cause id '{cause.id}'")
        seen.add(cause.id)
        causes.append(cause)
    return Taxonomy(version=version, departments=departments, causes=tuple(causes))


def _parse_departments(raw: object, source: str) -> dict[str, str]:
    if not isinstance(raw, dict) or not raw:
        raise _error(source, "'departments' must be a non-empty mapping of id to description")
    departments: dict[str, str] = {}
    for key, description in raw.items():
        if not isinstance(key, str) or not _ID_RE.match(key):
            raise _error(source, f"department id {key!r} must be snake_case")
        if not isinstance(description, str) or not description.strip():
            raise _error(source, f"department '{key}' needs a non-empty description string")
        departments[key] = description.strip()
    if TRIAGE_DEPARTMENT not in departments:
        raise _error(
            source,
            f"departments must include '{TRIAGE_DEPARTMENT}', which receives unclassified feedback",
        )
    return departments


def _parse_cause(raw: object, position: int, departments: Mapping[str, str], source: str) -> Cause:
    if not isinstance(raw, dict):
        raise _error(source, f"cause #{position} must be a mapping")
    cause_id = raw.get("id")
    label = f"cause '{cause_id}'" if isinstance(cause_id, str) else f"cause #{position}"
    for key in _REQUIRED_CAUSE_KEYS:
        if key not in raw:
            raise _error(source, f"{label} is missing required key '{key}'")
    unknown = sorted(str(key) for key in raw if key not in _CAUSE_KEYS)
    if unknown:
        raise _error(source, f"{label} has unknown key(s): {', '.join(unknown)}")
    if not isinstance(cause_id, str) or not _ID_RE.match(cause_id):
        raise _error(source, f"{label}: id must be a snake_case string")
    if cause_id == UNCLASSIFIED:
        raise _error(source, f"cause id '{UNCLASSIFIED}' is reserved for unmatched feedback")
    description = raw["description"]
    if not isinstance(description, str) or not description.strip():
        raise _error(source, f"{label}: description must be a non-empty string")
    department = raw["department"]
    if not isinstance(department, str) or department not in departments:
        raise _error(source, f"{label} names unknown department {department!r}")

    raw_patterns = raw.get("patterns") or []
    if not isinstance(raw_patterns, list):
        raise _error(source, f"{label}: patterns must be a list of regex strings")
    patterns: list[re.Pattern[str]] = []
    for raw_pattern in raw_patterns:
        if not isinstance(raw_pattern, str) or not raw_pattern.strip():
            raise _error(source, f"{label}: pattern {raw_pattern!r} must be a non-empty string")
        try:
            compiled = re.compile(raw_pattern, re.IGNORECASE)
        except re.error as error:
            raise _error(
                source, f"{label}: pattern {raw_pattern!r} is not a valid regex: {error}"
            ) from error
        if compiled.fullmatch("") is not None:
            raise _error(
                source, f"{label}: pattern {raw_pattern!r} matches empty text, so it matches always"
            )
        patterns.append(compiled)

    raw_signals = raw.get("signals") or {}
    if not isinstance(raw_signals, dict):
        raise _error(source, f"{label}: signals must be a mapping of signal name to threshold")
    signals: dict[str, float] = {}
    for name, threshold in raw_signals.items():
        if name not in SIGNAL_FIELDS:
            allowed = ", ".join(SIGNAL_FIELDS)
            raise _error(source, f"{label}: unknown signal {name!r} (allowed: {allowed})")
        if isinstance(threshold, bool) or not isinstance(threshold, int | float) or threshold < 0:
            raise _error(
                source, f"{label}: signal '{name}' needs a non-negative number, got {threshold!r}"
            )
        signals[name] = threshold
    if not patterns and not signals:
        raise _error(source, f"{label} has neither patterns nor signals, so it can never match")
    return Cause(
        id=cause_id,
        description=description.strip(),
        department=department,
        patterns=tuple(patterns),
        signals=signals,
    )


def _error(source: str, problem: str) -> TaxonomyError:
    """Build the one-line message every taxonomy problem is reported with."""
    return TaxonomyError(f"{source}: {problem}".replace("\r", " ").replace("\n", " "))


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate mapping keys.

    PyYAML keeps the last of two equal keys without a word, which would let a
    copy-pasted department or cause field silently replace another.
    """


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        mapping[key] = loader.construct_object(value_node, deep=True)
    return mapping


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,  # type: ignore[arg-type]
)
