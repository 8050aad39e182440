"""The root-cause taxonomy: causes in two levels, the departments that own them, and
the compiled rules that recognise them.

A taxonomy is a routing file owned by department owners and analysts, and a mistake
in it fails silently: feedback goes to the wrong team or to nobody. So a file is
validated completely when it is read, and every problem is one line naming file,
line and field (voc.transforms.taxonomy_file collects them); ``voc taxonomy check``
prints them all. This module holds the model and the loading; the compiler, from a
resolved document to a Taxonomy, is voc.transforms.compile_taxonomy.

Two formats are read. Version 2, written in plain words (phrases, concepts, near,
numbers; regex only as an escape hatch), is what the shipped packs use. Version 1,
a list of Python regular expressions per cause, is still read so that existing
files keep working; its patterns become regex rules.

Every tag names the taxonomy it came from by a human release number and a content
hash of the resolved file, so re-tagging after an edit can be diffed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from voc.transforms.cause_rules import (
    Phrase,
    Rule,
)
from voc.transforms.feedback_tokens import Vocabulary
from voc.transforms.taxonomy_file import (
    Located,
    LocatedDict,
    Problems,
    available_packs,
    read_pack,
    read_taxonomy_text,
)

__all__ = [
    "DEFAULT_PACK",
    "END",
    "PACK_PREFIX",
    "SIGNAL_FIELDS",
    "TAXONOMY_VERSION",
    "TRIAGE_DEPARTMENT",
    "UNCLASSIFIED",
    "Cause",
    "Taxonomy",
    "TaxonomyError",
    "available_packs",
    "check_taxonomy",
    "load_taxonomy",
    "load_taxonomy_reference",
    "parse_taxonomy",
]

# Feedback that matches no cause is still a customer telling us something; it is
# tagged with this pseudo-cause and routed to the team that triages support
# feedback, whose review is also how new causes get discovered (voc discover).
UNCLASSIFIED = "unclassified"
TRIAGE_DEPARTMENT = "support_ops"
DEFAULT_PACK = "generic"
# How a job names a shipped pack where it would name a file: "pack:telecom".
PACK_PREFIX = "pack:"

TAXONOMY_VERSION = 2  # the newest file format this voc reads

# Signal names -> the agent-note field each compares against ("too much of something").
SIGNAL_FIELDS: Mapping[str, str] = {
    "hold_seconds_gte": "hold_seconds",
    "transfers_gte": "transfers",
    "handle_seconds_gte": "handle_seconds",
}

# Built-in concept: the words that open a negation, usable as {not} in any rule.
BUILTIN_CONCEPTS: Mapping[str, tuple[str, ...]] = {
    "not": ("not", "no", "never", "without", "nobody", "nothing", "none", "neither", "nor"),
}


class TaxonomyError(ValueError):
    """A taxonomy that cannot be used. ``problems`` has every problem, one line each;
    the message is the first of them (one line, for CLI errors and worker logs)."""

    def __init__(self, problems: list[str]) -> None:
        first = problems[0] if problems else "invalid taxonomy"
        more = f" (and {len(problems) - 1} more: voc taxonomy check)" if len(problems) > 1 else ""
        super().__init__(first + more)
        self.problems = list(problems)


@dataclass(frozen=True)
class Cause:
    """A cause or a sub-cause. A sub-cause names its parent and is reported as the
    parent's ``sub_cause``; the parent is what routing and most queries count."""

    id: str
    description: str
    department: str
    parent: str | None = None
    rules: tuple[Rule, ...] = ()
    excludes: tuple[int, ...] = ()  # atoms that veto this cause when found, not negated
    negation: str = "veto"  # its rules' default: "veto" (no match inside a negation) or "ignore"

    @property
    def top(self) -> str:
        return self.parent or self.id


@dataclass(frozen=True)
class Taxonomy:
    """A validated, compiled taxonomy. Build it with load_taxonomy or parse_taxonomy."""

    version: int  # file format
    name: str
    release: str  # the human version number written in the file
    content_hash: str  # of the resolved file, so two tag runs can be compared
    departments: dict[str, str]
    causes: tuple[Cause, ...]  # top-level causes and sub-causes, in file order
    vocabulary: Vocabulary = field(repr=False)
    atoms: tuple[Phrase, ...] = field(default=(), repr=False)
    rules: tuple[Rule, ...] = field(default=(), repr=False)
    # Every atom's root sequences in one word trie: root -> child node, and END ->
    # the atoms ending there. One walk per token finds all atoms starting at it.
    trie: dict = field(default_factory=dict, repr=False)
    _by_id: dict[str, Cause] = field(init=False, repr=False, compare=False)
    # What the matcher needs, precomputed: atom -> rules that use it; the rules that
    # need no atom (bare numbers, regexes, signals); atom -> causes it excludes.
    rules_by_atom: dict[int, tuple[int, ...]] = field(init=False, repr=False, compare=False)
    number_rules: tuple[int, ...] = field(init=False, repr=False, compare=False)
    regex_rules: tuple[int, ...] = field(init=False, repr=False, compare=False)
    signal_rules: tuple[int, ...] = field(init=False, repr=False, compare=False)
    excluded_by_atom: dict[int, tuple[int, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {cause.id: cause for cause in self.causes})
        by_atom: dict[int, list[int]] = {}
        free: dict[str, list[int]] = {"number": [], "regex": [], "signal": []}
        for position, rule in enumerate(self.rules):
            if rule.kind in free:
                free[rule.kind].append(position)
                continue
            for atom in set(rule.atoms) | set(rule.other_atoms):
                by_atom.setdefault(atom, []).append(position)
        excluded: dict[int, list[int]] = {}
        positions = {cause.id: position for position, cause in enumerate(self.causes)}
        for position, cause in enumerate(self.causes):
            # a parent's exclusions veto its sub-causes too
            own = cause.excludes + (
                self.causes[positions[cause.parent]].excludes if cause.parent else ()
            )
            for atom in own:
                excluded.setdefault(atom, []).append(position)
        object.__setattr__(self, "rules_by_atom", {a: tuple(r) for a, r in by_atom.items()})
        object.__setattr__(self, "number_rules", tuple(free["number"]))
        object.__setattr__(self, "regex_rules", tuple(free["regex"]))
        object.__setattr__(self, "signal_rules", tuple(free["signal"]))
        object.__setattr__(self, "excluded_by_atom", {a: tuple(c) for a, c in excluded.items()})

    def department_for(self, cause_id: str) -> str:
        """The department owning cause_id (UNCLASSIFIED goes to triage); KeyError for
        an unknown cause, because silently routing a typo would lose the feedback."""
        if cause_id == UNCLASSIFIED:
            return TRIAGE_DEPARTMENT
        return self._by_id[cause_id].department

    def cause(self, cause_id: str) -> Cause:
        return self._by_id[cause_id]

    @property
    def cause_ids(self) -> tuple[str, ...]:
        """Top-level cause ids in file order, the order matches are reported in."""
        return tuple(cause.id for cause in self.causes if cause.parent is None)

    @property
    def label(self) -> str:
        """ "name release (hash)", how reports name the taxonomy."""
        return f"{self.name} {self.release} ({self.content_hash})"


# --------------------------------------------------------------------------- loading


def load_taxonomy(path: str | Path | None = None, pack: str | None = None) -> Taxonomy:
    """A taxonomy file, or a shipped pack by name; neither: the default pack.

    Raises TaxonomyError with every problem found.
    """
    taxonomy, problems = _load(path, pack)
    if taxonomy is None:
        raise TaxonomyError(problems.lines)
    return taxonomy


def load_taxonomy_reference(reference: str | None) -> Taxonomy:
    """A taxonomy named the way a job carries it: a path, ``pack:NAME`` or None."""
    if reference is not None and reference.startswith(PACK_PREFIX):
        return load_taxonomy(pack=reference.removeprefix(PACK_PREFIX))
    return load_taxonomy(reference)


def check_taxonomy(path: str | Path | None = None, pack: str | None = None) -> list[str]:
    """Every problem in a taxonomy, one line each; empty when it is usable."""
    return _load(path, pack)[1].lines


def parse_taxonomy(text: str, source: str, base_dir: Path | None = None) -> Taxonomy:
    """Validate and compile taxonomy YAML given as text; ``source`` names it in errors."""
    problems = Problems()
    document = read_taxonomy_text(text, source, problems)
    taxonomy = _compile(document, base_dir, problems) if document is not None else None
    if taxonomy is None or problems:
        raise TaxonomyError(problems.lines)
    return taxonomy


def _load(path: str | Path | None, pack: str | None) -> tuple[Taxonomy | None, Problems]:
    problems = Problems()
    if path is not None:
        source = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except UnicodeDecodeError as error:
            problems.add(Located(source, 0), "", f"not valid UTF-8: {error.reason}")
            return None, problems
        except OSError as error:
            problems.add(Located(source, 0), "", f"cannot read taxonomy: {error.strerror or error}")
            return None, problems
        document = read_taxonomy_text(text, source, problems)
        base_dir = Path(path).parent
    else:
        document = read_pack(pack or DEFAULT_PACK, problems)
        base_dir = None
    if document is None:
        return None, problems
    taxonomy = _compile(document, base_dir, problems)
    return (taxonomy if not problems else None), problems


def _compile(document: LocatedDict, base_dir: Path | None, problems: Problems) -> Taxonomy | None:
    """Compile a resolved document (voc.transforms.compile_taxonomy, which imports the
    model above, hence the import here)."""
    from voc.transforms.compile_taxonomy import compile_document

    return compile_document(document, base_dir, problems)


# The trie key under which a node lists the atoms that end there (never a word root).
END = "\x00"
