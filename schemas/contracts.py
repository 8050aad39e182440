"""The versioned event contracts: where they live, how they are named, how they compile.

Kept apart from parsing (and from Beam) so ``voc schema check`` compiles a
candidate exactly as the pipeline will, without loading the pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

import fastjsonschema
from jsonschema import Draft202012Validator, FormatChecker


@dataclass(frozen=True)
class Contract:
    """One event contract, compiled twice on purpose.

    ``check`` is fastjsonschema's generated code (~2 us an event, 25x faster than
    jsonschema): every event pays it. ``explain`` is jsonschema, which names every
    problem with its path; only rejected events pay for it.
    """

    check: Any
    explain: Draft202012Validator


def contracts_folder() -> Traversable:
    """Where the packaged contracts live: ``schemas/events/<event_type>.v<N>.json``."""
    return resources.files("voc.schemas") / "events"


def contract_file_name(event_type: str, schema_version: int) -> str:
    return f"{event_type}.v{schema_version}.json"


def compile_contract(schema: dict[str, Any]) -> Contract:
    """The contract as the pipeline validates with it (the schema checker compiles
    candidates through here too, so it tests exactly what would run).

    Formats are not checked by either: event times are parsed (and rejected with
    their own reason) by parse_message, which is stricter than a format regex.
    """
    return Contract(
        check=fastjsonschema.compile(schema, use_formats=False),
        explain=Draft202012Validator(schema, format_checker=FormatChecker()),
    )
