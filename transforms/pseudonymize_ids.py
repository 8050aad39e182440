"""Identifiers that hold personal data are pseudonymised before any table sees them.

Free text is redacted, but identifier fields are copied into department-facing
tables as they are, and some systems use personal data as ids: a customer_id
that is an email address, an interaction_id made from the caller's number. A
tester found both stored raw, the second copied into every tag row.

Such a value (one in which the PII finders of :mod:`voc.transforms.redact_pii`
find an email, phone, card or IBAN) is replaced by a keyed hash:
``pii-`` + the first 24 hex digits of HMAC-SHA256(key, value). Keyed, so nobody
without the key can test a guessed email against the table; stable for one key,
so the same customer or interaction still joins across surveys, notes and days.
Ids that do not look personal are kept as they are: they are what owners search for.

The key lives outside the database: in ``VOC_PSEUDONYM_KEY`` (hex), or in a key
file (``--pseudonym-key-file``, default ``.voc/pseudonym.key``, created with 32
random bytes on first use, readable by its owner only). Keep it as long as the
tables: a new key gives the same person a new pseudonym. The raw value stays
only where raw payloads are kept, the restricted dead letters.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import re
import secrets
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from voc.transforms.redact_pii import find_pii

# Identifier fields copied into fact and tag tables. event_id is the idempotency key
# set by the publishing system; it is not copied from a person.
IDENTIFIER_FIELDS = ("interaction_id", "customer_id", "agent_id", "team")
PSEUDONYM_PREFIX = "pii-"
KEY_ENV = "VOC_PSEUDONYM_KEY"
DEFAULT_KEY_FILE = str(Path(".voc") / "pseudonym.key")
_HEX_KEY = re.compile(r"[0-9a-fA-F]{32,128}")


class PseudonymKeyError(ValueError):
    """The key cannot be read or is not a key; the message is one line."""


def pseudonym(value: str, key: bytes) -> str:
    digest = hmac.new(key, value.encode("utf-8", "surrogatepass"), hashlib.sha256)
    return PSEUDONYM_PREFIX + digest.hexdigest()[:24]


@functools.lru_cache(maxsize=65_536)
def looks_personal(value: str) -> bool:
    """Cached: agent ids, teams and customer ids recur across events, and the finders
    cost more than the rest of handling an identifier."""
    return bool(find_pii(value))


def pseudonymize_ids(payload: Mapping[str, Any], key: bytes) -> dict[str, str]:
    """The identifier fields of ``payload`` that look personal, with their pseudonyms."""
    return {
        field: pseudonym(value, key)
        for field in IDENTIFIER_FIELDS
        if isinstance(value := payload.get(field), str) and looks_personal(value)
    }


def parse_key(text: str, source: str) -> bytes:
    stripped = text.strip()
    if not _HEX_KEY.fullmatch(stripped) or len(stripped) % 2:
        raise PseudonymKeyError(f"{source}: expected 32 to 128 hex digits (16 to 64 bytes)")
    return bytes.fromhex(stripped)


def load_key(path: str | None) -> bytes:
    """The key from the environment, else from ``path`` (created if it does not exist)."""
    if os.environ.get(KEY_ENV):
        return parse_key(os.environ[KEY_ENV], KEY_ENV)
    key_file = Path(path or DEFAULT_KEY_FILE)
    if not key_file.exists():
        try:
            key_file.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it first: read theirs
            pass
        except OSError as error:
            raise PseudonymKeyError(f"{key_file}: cannot create: {error.strerror}") from None
        else:
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_hex(32) + "\n")
    try:
        return parse_key(key_file.read_text(encoding="ascii", errors="replace"), str(key_file))
    except OSError as error:
        raise PseudonymKeyError(f"{key_file}: cannot read: {error.strerror}") from None


_KEYS: dict[str, bytes] = {}
_KEYS_LOCK = threading.Lock()


def shared_key(path: str | None) -> bytes:
    """One key per file per process (DoFns are re-created per bundle on the DirectRunner)."""
    cache_key = f"{os.environ.get(KEY_ENV, '')}|{path or DEFAULT_KEY_FILE}"
    with _KEYS_LOCK:
        if cache_key not in _KEYS:
            _KEYS[cache_key] = load_key(path)
        return _KEYS[cache_key]
