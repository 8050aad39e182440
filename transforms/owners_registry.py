"""The owners registry: who owns each department's feedback, and where its digest goes.

``schemas/tagging/owners.yaml`` (beside the taxonomy packs; a company passes its
own with ``voc run --owners FILE``) holds, per department of the taxonomy, the
owner's name and address, the digest schedule (a 5-field cron expression and the
time zone it is read in) and the delivery (a file, an email, or a webhook). It
is to a department what a ``metadata.yaml`` is to a table: the job copies it into
the ``departments`` table at every start, the digests and ``voc schedule`` read it.

Like the taxonomy, it is edited by people, so every problem is one line naming
the file, the line and the field, and all problems are reported at once
(:class:`OwnersRegistryError` carries them; its message is the first, with a
count of the rest). Pure: parsing and checking take text and a department list.
"""

from __future__ import annotations

import importlib.resources
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from voc.transforms.taxonomy_file import LocatedDict, Problems, read_taxonomy_text

PACKAGED = ("voc.schemas", "tagging/owners.yaml")
DELIVERY_KINDS = ("file", "email", "webhook")
_TOP_KEYS = {"version", "departments"}
_DEPARTMENT_KEYS = {"owner", "contact", "digest", "delivery"}
_DIGEST_KEYS = {"schedule", "timezone"}
_DELIVERY_KEYS = {"file": {"kind", "dir"}, "email": {"kind", "to"}, "webhook": {"kind", "url"}}
_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_URL = re.compile(r"^https?://[^\s/]+(/\S*)?$")
# (lowest, highest, names) of the five cron fields, in order.
_CRON_FIELDS = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day of month", 1, 31, ()),
    (
        "month",
        1,
        12,
        tuple(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]),
    ),
    ("day of week", 0, 7, tuple(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])),
)


class OwnersRegistryError(ValueError):
    """A registry that cannot be used; ``problems`` lists every problem, one line each."""

    def __init__(self, problems: list[str]) -> None:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(problems[0] + more)
        self.problems = problems


@dataclass(frozen=True)
class Delivery:
    """Where a digest goes: ``file`` (into ``dir``, default the digest command's
    --out), ``email`` (to these addresses, over the configured SMTP server) or
    ``webhook`` (a POST to ``url``, e.g. a chat tool's incoming webhook)."""

    kind: str
    to: tuple[str, ...] = ()
    url: str | None = None
    dir: str | None = None

    def as_json(self) -> str:
        data: dict[str, Any] = {"kind": self.kind}
        if self.kind == "email":
            data["to"] = list(self.to)
        elif self.kind == "webhook":
            data["url"] = self.url
        elif self.dir:
            data["dir"] = self.dir
        return json.dumps(data, separators=(",", ":"))


@dataclass(frozen=True)
class DepartmentOwner:
    department: str
    owner: str | None
    contact: str | None
    schedule: str | None  # a 5-field cron expression, read in ``timezone``
    timezone: str
    delivery: Delivery

    def schedule_json(self) -> str | None:
        if self.schedule is None:
            return None
        return json.dumps({"cron": self.schedule, "timezone": self.timezone})


@dataclass(frozen=True)
class OwnersRegistry:
    source: str
    owners: dict[str, DepartmentOwner] = field(default_factory=dict)


def cron_problem(expression: str) -> str | None:
    """Why ``expression`` is not a 5-field cron expression, or None.

    Fields: numbers, ``*``, ranges ``a-b``, steps ``*/n`` or ``a-b/n``, lists ``a,b``,
    and month / weekday names (jan, mon). No ``@daily``-style shortcuts: crontab and
    Cloud Scheduler both read the five fields.
    """
    fields = expression.split()
    if len(fields) != 5:
        return f"{expression!r}: a cron expression has 5 fields (minute hour day month weekday)"
    for text, (name, low, high, names) in zip(fields, _CRON_FIELDS, strict=True):
        for part in text.split(","):
            problem = _cron_part_problem(part.lower(), low, high, names)
            if problem:
                return f"{expression!r}: {name} field {text!r}: {problem}"
    return None


def _cron_part_problem(part: str, low: int, high: int, names: tuple[str, ...]) -> str | None:
    base, _, step = part.partition("/")
    if step and (not step.isdigit() or int(step) == 0):
        return f"step {step!r} is not a positive number"
    if base == "*":
        return None
    bounds = base.split("-")
    if len(bounds) > 2 or not all(bounds):
        return f"{part!r} is not a number, a range or *"
    values = []
    for bound in bounds:
        if bound in names:
            values.append(names.index(bound) + (1 if low == 1 else 0))
        elif bound.isdigit():
            values.append(int(bound))
        else:
            return f"{bound!r} is not a number"
    if any(value < low or value > high for value in values):
        return f"{part!r} is outside {low}-{high}"
    if len(values) == 2 and values[0] > values[1]:
        return f"range {part!r} runs backwards"
    return None


def packaged_path() -> Path:
    """The registry shipped with voc (schemas/tagging/owners.yaml)."""
    package, name = PACKAGED
    return Path(str(importlib.resources.files(package).joinpath(name)))


def load_owners(
    path: str | Path | None = None, departments: Iterable[str] | None = None
) -> OwnersRegistry:
    """Read and check a registry file (default: the packaged one). With ``departments``
    (the taxonomy's), a department the taxonomy does not name is a problem."""
    file = Path(path) if path is not None else packaged_path()
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise OwnersRegistryError([f"{file}: cannot read: {error}"]) from None
    return parse_owners(text, str(file), departments)


def parse_owners(
    text: str, source: str, departments: Iterable[str] | None = None
) -> OwnersRegistry:
    """Parse and check registry text; raises OwnersRegistryError with every problem."""
    problems = Problems()
    document = read_taxonomy_text(text, source, problems)
    owners: dict[str, DepartmentOwner] = {}
    if document is not None:
        owners = _read_document(document, problems, set(departments) if departments else None)
    if problems:
        raise OwnersRegistryError(problems.lines)
    return OwnersRegistry(source, owners)


def _read_document(
    document: LocatedDict, problems: Problems, known: set[str] | None
) -> dict[str, DepartmentOwner]:
    for key in sorted(set(document) - _TOP_KEYS, key=str):
        problems.add(document.where(key), str(key), "unknown key (expected version, departments)")
    if document.get("version") != 1:
        problems.add(document.where("version"), "version", "must be 1")
    raw = document.get("departments")
    if not isinstance(raw, LocatedDict):
        problems.add(document.where("departments"), "departments", "must be a mapping")
        return {}
    owners = {}
    for name, entry in raw.items():
        subject = f"departments.{name}"
        if known is not None and name not in known:
            problems.add(
                raw.where(name),
                subject,
                f"unknown department (the taxonomy has {', '.join(sorted(known))})",
            )
            continue
        if not isinstance(entry, LocatedDict):
            problems.add(raw.where(name), subject, "must be a mapping (owner, contact, ...)")
            continue
        owner = _read_department(str(name), entry, subject, problems)
        if owner is not None:
            owners[str(name)] = owner
    return owners


def _read_department(
    name: str, entry: LocatedDict, subject: str, problems: Problems
) -> DepartmentOwner | None:
    before = len(problems.lines)
    for key in sorted(set(entry) - _DEPARTMENT_KEYS, key=str):
        problems.add(entry.where(key), f"{subject}.{key}", "unknown key")
    owner = _optional_text(entry, "owner", subject, problems)
    contact = _optional_text(entry, "contact", subject, problems)
    if contact is not None and not _ADDRESS.match(contact):
        problems.add(entry.where("contact"), f"{subject}.contact", "not an email address")
    schedule, timezone = _read_digest(entry, subject, problems)
    delivery = _read_delivery(entry, subject, problems)
    if len(problems.lines) > before or delivery is None:
        return None
    return DepartmentOwner(name, owner, contact, schedule, timezone, delivery)


def _optional_text(entry: LocatedDict, key: str, subject: str, problems: Problems) -> str | None:
    value = entry.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        problems.add(entry.where(key), f"{subject}.{key}", "must be a non-empty text")
        return None
    return value.strip()


def _read_digest(entry: LocatedDict, subject: str, problems: Problems) -> tuple[str | None, str]:
    digest = entry.get("digest")
    if digest is None:
        return None, "UTC"
    where = f"{subject}.digest"
    if not isinstance(digest, LocatedDict):
        problems.add(entry.where("digest"), where, "must be a mapping (schedule, timezone)")
        return None, "UTC"
    for key in sorted(set(digest) - _DIGEST_KEYS, key=str):
        problems.add(digest.where(key), f"{where}.{key}", "unknown key")
    schedule = digest.get("schedule")
    if not isinstance(schedule, str):
        problems.add(digest.where("schedule"), f"{where}.schedule", "a cron expression is needed")
        schedule = None
    elif problem := cron_problem(schedule):
        problems.add(digest.where("schedule"), f"{where}.schedule", f"bad cron: {problem}")
    timezone = digest.get("timezone", "UTC")
    if not isinstance(timezone, str) or not _is_timezone(timezone):
        problems.add(
            digest.where("timezone"), f"{where}.timezone", f"unknown time zone {timezone!r}"
        )
        timezone = "UTC"
    return schedule, timezone


def _is_timezone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _read_delivery(entry: LocatedDict, subject: str, problems: Problems) -> Delivery | None:
    raw = entry.get("delivery", {"kind": "file"})
    where = f"{subject}.delivery"
    located = raw if isinstance(raw, LocatedDict) else None
    at = located.where if located is not None else (lambda _key=None: entry.where("delivery"))
    if not isinstance(raw, Mapping):
        problems.add(entry.where("delivery"), where, "must be a mapping with a kind")
        return None
    kind = raw.get("kind")
    if kind not in DELIVERY_KINDS:
        problems.add(at("kind"), f"{where}.kind", f"must be one of {', '.join(DELIVERY_KINDS)}")
        return None
    for key in sorted(set(raw) - _DELIVERY_KEYS[kind], key=str):
        problems.add(at(key), f"{where}.{key}", f"unknown key for a {kind} delivery")
    if kind == "email":
        to = raw.get("to")
        addresses = [to] if isinstance(to, str) else to
        if not isinstance(addresses, list) or not addresses:
            problems.add(at("to"), f"{where}.to", "an email delivery needs to: (addresses)")
            return None
        bad = [a for a in addresses if not isinstance(a, str) or not _ADDRESS.match(a)]
        if bad:
            problems.add(at("to"), f"{where}.to", f"not an email address: {bad[0]!r}")
            return None
        return Delivery("email", to=tuple(addresses))
    if kind == "webhook":
        url = raw.get("url")
        if not isinstance(url, str) or not _URL.match(url):
            problems.add(at("url"), f"{where}.url", "a webhook delivery needs an http(s) url")
            return None
        return Delivery("webhook", url=url)
    directory = raw.get("dir")
    if directory is not None and not isinstance(directory, str):
        problems.add(at("dir"), f"{where}.dir", "must be a folder path")
        return None
    return Delivery("file", dir=directory)


def department_rows(
    taxonomy_departments: Mapping[str, str], registry: OwnersRegistry
) -> list[dict[str, Any]]:
    """The ``departments`` table's rows: every department of the taxonomy, with its
    owner from the registry (a department the registry does not name has no owner,
    no schedule, and a file delivery)."""
    rows = []
    for name, description in sorted(taxonomy_departments.items()):
        owner = registry.owners.get(name)
        rows.append(
            {
                "department": name,
                "description": description,
                "owner": owner.owner if owner else None,
                "contact": owner.contact if owner else None,
                "digest_schedule": owner.schedule_json() if owner else None,
                "delivery": (owner.delivery if owner else Delivery("file")).as_json(),
            }
        )
    return rows
