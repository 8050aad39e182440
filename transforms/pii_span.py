"""The span every PII finder reports, and the digit basics the card and phone finders share.

redact_pii runs the finders and merges what they find; the phone-number search is
large enough for a module of its own (find_phone_numbers). Both import from here,
so neither needs the other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

EMAIL = "EMAIL"
PHONE = "PHONE"
CARD = "CARD"
IBAN = "IBAN"

# Fewer digits than this rule out cards and phone numbers.
MIN_DIGITS = 7

# A run of digits, and what is left of a number when its separators are dropped.
DIGIT_GROUP = re.compile(r"[0-9]+")
NON_DIGITS = re.compile(r"[^0-9]+")


@dataclass(frozen=True)
class PiiSpan:
    """A detected value: its kind and the [start, end) character range in the text."""

    kind: str
    start: int
    end: int
