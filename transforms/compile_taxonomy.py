"""Compiling a taxonomy document into a Taxonomy, recording every problem on the way.

voc.transforms.taxonomy holds what a taxonomy *is* (causes, departments, the compiled
rules the matcher reads) and how one is loaded; this module holds how a resolved
YAML document becomes one: departments, abbreviations, concepts in dependency order,
causes and sub-causes with their rules, exclusions, the checks that span causes, and
the word trie every phrase is matched through. Each problem is recorded with the
file and line it was written on (voc.transforms.taxonomy_file) and compilation
carries on, so ``voc taxonomy check`` can report them all at once.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from voc.transforms.cause_rules import (
    CONCEPT_RE,
    DEFAULT_NEAR_WINDOW,
    KIND_CONFIDENCE,
    Phrase,
    Rule,
    RuleError,
    compile_phrase,
    parse_number_test,
)
from voc.transforms.feedback_tokens import BUILTIN_ABBREVIATIONS, Vocabulary
from voc.transforms.taxonomy import (
    BUILTIN_CONCEPTS,
    END,
    SIGNAL_FIELDS,
    TRIAGE_DEPARTMENT,
    UNCLASSIFIED,
    Cause,
    Taxonomy,
)
from voc.transforms.taxonomy_file import (
    Located,
    LocatedDict,
    LocatedList,
    Problems,
    resolve_extends,
)

__all__ = ["compile_document"]

_FORMATS = (1, 2)
_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_TOP_KEYS = {
    1: frozenset({"version", "departments", "causes"}),
    2: frozenset(
        {
            "version",
            "name",
            "release",
            "description",
            "extends",
            "departments",
            "concepts",
            "abbreviations",
            "drop",
            "rename",
            "causes",
        }
    ),
}
_RULE_KEYS = ("phrases", "near", "numbers", "regex", "signals", "exclude")
_CAUSE_KEYS = {
    1: frozenset({"id", "description", "department", "patterns", "signals"}),
    2: frozenset(
        {"id", "description", "department", "subcauses", "replace", "negation", *_RULE_KEYS}
    ),
}
_MAX_WINDOW = 30


def compile_document(
    document: LocatedDict, base_dir: Path | None, problems: Problems
) -> Taxonomy | None:
    version = document.get("version")
    if isinstance(version, bool) or version not in _FORMATS:
        problems.add(
            document.where("version"),
            "version",
            f"must be 1 or 2 (the taxonomy file format), got {version!r}",
        )
        return None
    if version == 2:
        document = resolve_extends(document, base_dir, problems)
    unknown = sorted(str(key) for key in document if key not in _TOP_KEYS[version])
    for key in unknown:
        problems.add(document.where(key), key, "unknown top-level key")
    for key in ("departments", "causes"):
        if key not in document:
            problems.add(document.where(), key, "missing required key")
    if problems:
        return None
    builder = _Builder(version, document, problems)
    return builder.build()


class _Builder:
    """Turns a resolved document into a Taxonomy, recording every problem on the way."""

    def __init__(self, version: int, document: LocatedDict, problems: Problems) -> None:
        self.version = version
        self.document = document
        self.problems = problems
        self.atoms: list[Phrase] = []
        self.atom_ids: dict[tuple, int] = {}
        self.rules: list[Rule] = []
        self.causes: list[Cause] = []

    def build(self) -> Taxonomy | None:
        document = self.document
        self.departments = self._departments(document["departments"])
        abbreviations = dict(BUILTIN_ABBREVIATIONS)
        raw_abbreviations = document.get("abbreviations") or {}
        if isinstance(raw_abbreviations, dict):
            for short, long in raw_abbreviations.items():
                if not isinstance(long, str) or not long.strip():
                    self._problem(raw_abbreviations, short, "abbreviations", "needs a word")
                    continue
                abbreviations[str(short).lower()] = long.lower().strip()
        else:
            self._problem(document, "abbreviations", "abbreviations", "must be a mapping")
        raw_concepts = document.get("concepts") or {}
        if not isinstance(raw_concepts, dict):
            self._problem(document, "concepts", "concepts", "must be a mapping of name to words")
            raw_concepts = {}
        words = self._words(raw_concepts, document.get("causes"))
        self.vocabulary = Vocabulary.build(abbreviations, words)
        self.concepts = self._concepts(raw_concepts)
        raw_causes = document["causes"]
        if not isinstance(raw_causes, list) or not raw_causes:
            self._problem(document, "causes", "causes", "must be a non-empty list")
            return None
        seen: dict[str, Located] = {}
        for position, raw in enumerate(raw_causes):
            where = raw_causes.where(position) if isinstance(raw_causes, LocatedList) else None
            self._cause(raw, where or document.where("causes"), None, seen)
        self._check_identical_rules()
        if self.problems:
            return None
        trie = _build_trie(self.atoms)
        return Taxonomy(
            version=self.version,
            name=str(document.get("name") or "custom"),
            release=str(document.get("release") or "0"),
            content_hash=_content_hash(document),
            departments=self.departments,
            causes=tuple(self.causes),
            vocabulary=self.vocabulary,
            atoms=tuple(self.atoms),
            rules=tuple(self.rules),
            trie=trie,
        )

    # -- pieces ----------------------------------------------------------------

    def _departments(self, raw: Any) -> dict[str, str]:
        if not isinstance(raw, dict) or not raw:
            self._problem(self.document, "departments", "departments", "must be a mapping")
            return {}
        departments: dict[str, str] = {}
        for key, description in raw.items():
            if not isinstance(key, str) or not _ID_RE.match(key):
                self._problem(raw, key, f"department {key!r}", "id must be snake_case")
                continue
            if not isinstance(description, str) or not description.strip():
                self._problem(raw, key, f"department {key}", "needs a description")
                continue
            departments[key] = description.strip()
        if TRIAGE_DEPARTMENT not in departments:
            self._problem(
                self.document,
                "departments",
                "departments",
                f"must include '{TRIAGE_DEPARTMENT}', which receives unclassified feedback",
            )
        return departments

    def _words(self, concepts: Mapping, causes: Any) -> frozenset[str]:
        """Every plain word the rules use: the hashtag splitter and the near-miss
        speller only ever produce words a rule can use."""
        words: set[str] = set()

        def visit(value: Any) -> None:
            if isinstance(value, str):
                for word in re.findall(r"[a-z]+", CONCEPT_RE.sub(" ", value.lower())):
                    words.add(word)
            elif isinstance(value, dict):
                for key, item in value.items():
                    if key not in ("id", "description", "department", "regex", "patterns"):
                        visit(item)
            elif isinstance(value, list):
                for item in value:
                    visit(item)

        visit(list(concepts.values()))
        visit(causes)
        for members in BUILTIN_CONCEPTS.values():
            words.update(members)
        return frozenset(words)

    def _concepts(self, raw: Mapping) -> dict[str, tuple[Phrase, ...]]:
        """Compile concepts in dependency order; a concept may use other concepts."""
        compiled: dict[str, tuple[Phrase, ...]] = {
            name: tuple(compile_phrase(word, {}, self.vocabulary) for word in members)
            for name, members in BUILTIN_CONCEPTS.items()
        }
        pending = {}
        for name, members in raw.items():
            if not isinstance(name, str) or not _ID_RE.match(name):
                self._problem(raw, name, f"concept {name!r}", "name must be snake_case")
                continue
            if not isinstance(members, list) or not members:
                self._problem(raw, name, f"concept {name}", "must be a non-empty list of words")
                continue
            pending[name] = members
        while pending:
            progressed = False
            for name, members in list(pending.items()):
                needed = {
                    ref
                    for member in members
                    if isinstance(member, str)
                    for ref in CONCEPT_RE.findall(member)
                }
                if name in needed:
                    self._problem(raw, name, f"concept {name}", "refers to itself")
                    del pending[name]
                    progressed = True
                    continue
                if needed & set(pending):
                    continue
                phrases = []
                for position, member in enumerate(members):
                    where = members.where(position) if isinstance(members, LocatedList) else None
                    if not isinstance(member, str) or not member.strip():
                        self._add(where, f"concept {name}", f"member {member!r} must be words")
                        continue
                    try:
                        phrases.append(compile_phrase(member, compiled, self.vocabulary))
                    except RuleError as error:
                        self._add(where, f"concept {name}", str(error))
                compiled[name] = tuple(phrases)
                del pending[name]
                progressed = True
            if not progressed:
                for name in pending:
                    self._problem(raw, name, f"concept {name}", "refers to itself through others")
                break
        return compiled

    def _cause(
        self, raw: Any, where: Located, parent: Cause | None, seen: dict[str, Located]
    ) -> None:
        if not isinstance(raw, LocatedDict):
            self._add(where, "cause", "must be a mapping with id, description and department")
            return
        cause_id = raw.get("id")
        label = f"cause {cause_id}" if isinstance(cause_id, str) else "cause"
        keys = _CAUSE_KEYS[self.version]
        for key in raw:
            if key not in keys:
                self._problem(raw, key, label, f"unknown key {key!r}")
        if parent is not None and "subcauses" in raw:
            self._problem(raw, "subcauses", label, "sub-causes cannot have sub-causes")
        required = ("id", "description") if parent else ("id", "description", "department")
        for key in required:
            if key not in raw:
                self._problem(raw, None, label, f"missing required key {key!r}")
        if not isinstance(cause_id, str) or not _ID_RE.match(cause_id):
            self._problem(raw, "id", label, "id must be a snake_case string")
            return
        if cause_id == UNCLASSIFIED:
            self._problem(raw, "id", label, f"'{UNCLASSIFIED}' is reserved for unmatched feedback")
            return
        if cause_id in seen:
            first = seen[cause_id]
            self._problem(raw, "id", label, f"duplicate id (first at line {first.line})")
            return
        seen[cause_id] = raw.where("id")
        description = raw.get("description")
        if not isinstance(description, str) or not description.strip():
            self._problem(raw, "description", label, "description must be a non-empty string")
            description = ""
        department = raw.get("department", parent.department if parent else None)
        if not isinstance(department, str) or department not in self.departments:
            self._problem(raw, "department", label, f"unknown department {department!r}")
            department = ""
        cause_index = len(self.causes)
        problems_before = len(self.problems.lines)
        self.causes.append(Cause(cause_id, description.strip(), department))
        # a cause's default for its rules' negation; a sub-cause inherits its parent's
        inherited = parent.negation if parent else "veto"
        negation = raw.get("negation", inherited)
        if negation not in ("veto", "ignore"):
            self._problem(raw, "negation", label, "negation must be 'veto' or 'ignore'")
            negation = inherited
        self._negation = negation
        rules = self._rules(raw, cause_id, cause_index, label)
        excludes = self._excludes(raw, label)
        cause = Cause(
            cause_id,
            description.strip(),
            department,
            parent.id if parent else None,
            tuple(rules),
            tuple(excludes),
            negation,
        )
        self.causes[cause_index] = cause
        subcauses = raw.get("subcauses") or []
        if parent is None and not isinstance(subcauses, list):
            self._problem(raw, "subcauses", label, "subcauses must be a list of causes")
            subcauses = []
        for position, sub in enumerate(subcauses if parent is None else []):
            sub_where = subcauses.where(position) if isinstance(subcauses, LocatedList) else where
            self._cause(sub, sub_where, cause, seen)
        had_errors = len(self.problems.lines) > problems_before
        if (
            not rules
            and not had_errors
            and not any(c.parent == cause_id and c.rules for c in self.causes)
        ):
            self._problem(raw, None, label, "has no rules (phrases, near, numbers, regex, signals)")

    def _rules(self, raw: LocatedDict, cause_id: str, cause_index: int, label: str) -> list[Rule]:
        rules: list[Rule] = []
        list_keys = ("patterns",) if self.version == 1 else ("phrases", "near", "numbers", "regex")
        for key in list_keys:
            entries = raw.get(key) or []
            if not isinstance(entries, list):
                self._problem(raw, key, label, f"{key} must be a list")
                continue
            kind = {"phrases": "phrase", "numbers": "number", "patterns": "regex"}.get(key, key)
            for position, entry in enumerate(entries):
                where = entries.where(position) if isinstance(entries, LocatedList) else None
                rule_id = f"{cause_id}/{kind}/{position + 1}"
                try:
                    rule = self._rule(kind, entry, rule_id, cause_index)
                except RuleError as error:
                    self._add(where or raw.where(key), f"{label} {key}", str(error))
                    continue
                rules.append(rule)
        signals = raw.get("signals") or {}
        if not isinstance(signals, dict):
            self._problem(raw, "signals", label, "signals must map a signal name to a threshold")
            signals = {}
        for name, threshold in signals.items():
            if name not in SIGNAL_FIELDS:
                allowed = ", ".join(SIGNAL_FIELDS)
                self._problem(signals, name, label, f"unknown signal {name!r} (allowed: {allowed})")
                continue
            if isinstance(threshold, bool) or not isinstance(threshold, int | float):
                self._problem(signals, name, label, f"signal {name} needs a number")
                continue
            if threshold < 0:
                self._problem(signals, name, label, f"signal {name} needs a non-negative number")
                continue
            rules.append(
                Rule(
                    id=f"{cause_id}/signal/{name}",
                    cause=cause_index,
                    kind="signal",
                    confidence=KIND_CONFIDENCE["signal"],
                    signal_field=SIGNAL_FIELDS[name],
                    signal_threshold=float(threshold),
                    source=f"{name}: {threshold}",
                )
            )
        self.rules.extend(rules)
        return rules

    def _rule(self, kind: str, entry: Any, rule_id: str, cause_index: int) -> Rule:
        options: Mapping[str, Any] = {}
        body = entry
        if isinstance(entry, dict) and kind in entry:
            options = entry
            body = entry[kind]
            unknown = set(entry) - {kind, "confidence", "negation"}
            if unknown:
                raise RuleError(f"unknown rule option(s): {', '.join(sorted(map(str, unknown)))}")
        confidence = options.get("confidence", KIND_CONFIDENCE[kind])
        if isinstance(confidence, bool) or not isinstance(confidence, int | float):
            raise RuleError(f"confidence must be a number in (0, 1], got {confidence!r}")
        if not 0 < confidence <= 1:
            raise RuleError(f"confidence must be in (0, 1], got {confidence!r}")
        negation = options.get("negation", getattr(self, "_negation", "veto"))
        if negation not in ("veto", "ignore"):
            raise RuleError(f"negation must be 'veto' or 'ignore', got {negation!r}")
        common = {
            "id": rule_id,
            "cause": cause_index,
            "kind": kind,
            "confidence": float(confidence),
            "negation": negation,
        }
        if kind == "phrase":
            if not isinstance(body, str) or not body.strip():
                raise RuleError(f"phrase {body!r} must be non-empty words")
            return Rule(**common, atoms=(self._atom(body),), source=body)
        if kind == "near":
            if not isinstance(body, list) or len(body) not in (2, 3):
                raise RuleError("near takes [A, B] or [A, B, words], A and B phrases or concepts")
            window = body[2] if len(body) == 3 else DEFAULT_NEAR_WINDOW
            if isinstance(window, bool) or not isinstance(window, int):
                raise RuleError(f"near's third item is a number of words, got {window!r}")
            if not 0 <= window <= _MAX_WINDOW:
                raise RuleError(f"near's window must be 0..{_MAX_WINDOW} words, got {window}")
            side_a, side_b = self._side(body[0]), self._side(body[1])
            return Rule(
                **common,
                atoms=side_a,
                other_atoms=side_b,
                window=window,
                source=f"near {_show(body[0])} ~{window} {_show(body[1])}",
            )
        if kind == "number":
            if not isinstance(body, str):
                raise RuleError(f"number rule must be text like 'duration >= 30 min', got {body!r}")
            test, near, window = parse_number_test(body)
            atoms = self._side(near) if near else ()
            return Rule(**common, number=test, atoms=atoms, window=window, source=body)
        if not isinstance(body, str) or not body.strip():
            raise RuleError(f"regex {body!r} must be a non-empty string")
        try:
            pattern = re.compile(body, re.IGNORECASE)
        except re.error as error:
            raise RuleError(f"regex {body!r} does not compile: {error}") from error
        if pattern.fullmatch("") is not None:
            raise RuleError(f"regex {body!r} matches empty text, so it matches always")
        return Rule(**common, pattern=pattern, source=body)

    def _side(self, value: Any) -> tuple[int, ...]:
        """A near side: a phrase, a concept ({name} or YAML's {name: null}), or a list."""
        if isinstance(value, dict) and len(value) == 1 and next(iter(value.values())) is None:
            value = "{" + str(next(iter(value))) + "}"
        if isinstance(value, str):
            return (self._atom(value),)
        if isinstance(value, list) and value:
            return tuple(self._atom(item) for item in value for _ in [self._check_str(item)])
        raise RuleError(f"{value!r} is not a phrase, a {{concept}} or a list of phrases")

    @staticmethod
    def _check_str(item: Any) -> None:
        if not isinstance(item, str) or not item.strip():
            raise RuleError(f"{item!r} must be a phrase or a {{concept}}")

    def _atom(self, text: str) -> int:
        phrase = compile_phrase(text, self.concepts, self.vocabulary)
        phrase.sequences()  # refuses a phrase too large to match
        key = phrase.slots
        atom_id = self.atom_ids.get(key)
        if atom_id is None:
            atom_id = self.atom_ids[key] = len(self.atoms)
            self.atoms.append(phrase)
        return atom_id

    def _excludes(self, raw: LocatedDict, label: str) -> list[int]:
        entries = raw.get("exclude") or []
        if not isinstance(entries, list):
            self._problem(raw, "exclude", label, "exclude must be a list of phrases")
            return []
        atoms = []
        for position, entry in enumerate(entries):
            where = entries.where(position) if isinstance(entries, LocatedList) else None
            try:
                self._check_str(entry)
                atoms.append(self._atom(entry))
            except RuleError as error:
                self._add(where or raw.where("exclude"), f"{label} exclude", str(error))
        return atoms

    def _check_identical_rules(self) -> None:
        """Two causes with the same rules would always fire together: one is a copy."""
        by_signature: dict[tuple, str] = {}
        for cause in self.causes:
            signature = tuple(
                sorted((r.kind, r.atoms, r.other_atoms, r.window, r.source) for r in cause.rules)
            )
            if not signature:
                continue
            other = by_signature.get(signature)
            if other is not None:
                self._add(
                    Located(self.document.source, 0),
                    f"cause {cause.id}",
                    f"has exactly the rules of cause {other}, so both always fire together",
                )
            by_signature[signature] = cause.id

    # -- problems ----------------------------------------------------------------

    def _problem(self, mapping: Any, key: Any, subject: str, problem: str) -> None:
        if isinstance(mapping, LocatedDict):
            where = mapping.where(key) if key is not None else mapping.where()
        else:
            where = Located(self.document.source, 0)
        self.problems.add(where, subject, problem)

    def _add(self, where: Located | None, subject: str, problem: str) -> None:
        self.problems.add(where or Located(self.document.source, 0), subject, problem)


def _build_trie(atoms: list[Phrase]) -> dict:
    trie: dict = {}
    for atom_id, atom in enumerate(atoms):
        for sequence in atom.sequences():
            node = trie
            for root in sequence:
                child = node.get(root)
                if child is None:
                    child = node[root] = {}
                node = child
            ends = node.get(END)
            if ends is None:
                node[END] = [atom_id]
            elif ends[-1] != atom_id:  # atoms are added in order: a repeat is the last
                ends.append(atom_id)
    return trie


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ",".join(map(str, value)) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(map(str, value)) + "]"
    return str(value)


def _content_hash(document: Any) -> str:
    """Twelve hex digits of the resolved document's canonical JSON."""
    canonical = json.dumps(document, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:12]
