"""The generator's phrase tables and word lists, read once at import from phrases.yaml.

They are data so that a new way for customers to complain is an edit to one YAML
file that a reviewer can read as English, not to code. YAML has lists only; they
are turned back into tuples so that no caller can change a table another relies on.
"""

from __future__ import annotations

import importlib.resources
from typing import Any

import yaml


def _frozen(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_frozen(item) for item in value)
    if isinstance(value, dict):
        return {key: _frozen(item) for key, item in value.items()}
    return value


_TABLES: dict[str, Any] = _frozen(
    yaml.safe_load(
        (importlib.resources.files(__package__) / "phrases.yaml").read_text(encoding="utf-8")
    )
)

# root causes
PRIMARY_WEIGHTS: dict[str, int] = _TABLES["primary_weights"]
SECONDARY_WEIGHTS: dict[str, int] = _TABLES["secondary_weights"]
PRODUCT_AREAS: dict[str, tuple[str, ...]] = _TABLES["product_areas"]

# sentences
CUSTOMER_PHRASES: dict[str, tuple[str, ...]] = _TABLES["customer_phrases"]
NOTE_PHRASES: dict[str, tuple[str, ...]] = _TABLES["note_phrases"]
HAPPY_COMMENTS: tuple[str, ...] = _TABLES["happy_comments"]
VAGUE_COMMENTS: tuple[str, ...] = _TABLES["vague_comments"]
HAPPY_NOTES: tuple[str, ...] = _TABLES["happy_notes"]
CUSTOMER_ASIDES: tuple[str, ...] = _TABLES["customer_asides"]
NOTE_ASIDES: tuple[str, ...] = _TABLES["note_asides"]
OPENERS: dict[str, tuple[str, ...]] = _TABLES["openers"]
CLOSERS: dict[str, tuple[str, ...]] = _TABLES["closers"]
NOTE_OPENERS: dict[str, tuple[str, ...]] = _TABLES["note_openers"]
NOTE_CLOSERS: tuple[str, ...] = _TABLES["note_closers"]
CUSTOMER_PII: tuple[str, ...] = _TABLES["customer_pii"]
NOTE_PII: tuple[str, ...] = _TABLES["note_pii"]

# placeholder values
PRODUCTS: tuple[str, ...] = _TABLES["products"]
PLANS: tuple[str, ...] = _TABLES["plans"]
FEATURES: tuple[str, ...] = _TABLES["features"]
CAPABILITIES: tuple[str, ...] = _TABLES["capabilities"]
TOPICS: tuple[str, ...] = _TABLES["topics"]
HOW_TOS: tuple[str, ...] = _TABLES["how_tos"]
DEVICES: tuple[str, ...] = _TABLES["devices"]
CARRIERS: tuple[str, ...] = _TABLES["carriers"]
WEEKDAYS: tuple[str, ...] = _TABLES["weekdays"]
NUMBER_WORDS: tuple[str, ...] = _TABLES["number_words"]
AGENT_NAMES: tuple[str, ...] = _TABLES["agent_names"]
EMAIL_NAMES: tuple[str, ...] = _TABLES["email_names"]
EMAIL_DOMAINS: tuple[str, ...] = _TABLES["email_domains"]
PHONES: tuple[str, ...] = _TABLES["phones"]
CARDS: tuple[str, ...] = _TABLES["cards"]

# contact centre
TEAMS_BY_CHANNEL: dict[str, tuple[str, ...]] = _TABLES["teams_by_channel"]
CHANNEL_WEIGHTS: dict[str, int] = _TABLES["channel_weights"]
LANGUAGES: tuple[str, ...] = _TABLES["languages"]
DEPARTMENTS: dict[str, str] = _TABLES["departments"]
