"""Redaction of personal data from free text before it reaches department-facing tables.

Agents paste whatever the customer says into notes: card numbers read out over the
phone, e-mail addresses, call-back numbers, bank details. Departments need the text for
root-cause analysis but must never see those values, so every event passes through
:func:`redact_pii`, which swaps them for typed placeholders (``<EMAIL>``, ``<PHONE>``,
``<CARD>``, ``<IBAN>``) that keep the sentence readable and countable.

Design choices:
  * Checksums decide for cards (Luhn) and IBANs (ISO 7064 mod 97), so long order or
    ticket numbers that merely look like them survive.
  * Phone numbers have no checksum, so their rules are structural: an international
    prefix ("+" or "00"), a trunk "0", the North American 3-3-4 shape, groups joined by
    dashes or dots, and the words just before the number ("call ..." makes even a
    seven-digit local number a phone; "order ..." or "ticket ..." makes a number an
    identifier). Dates, times, amounts, versions, IP addresses, years and short numbers
    do not qualify. A bare number in none of these shapes is kept: without context it
    is more likely an order or ticket id.
  * When detections overlap, the union is redacted: leaking part of a number is worse
    than hiding a few extra characters.
  * This runs on every event, so texts that cannot contain any of these (no "@" and
    fewer than seven digits) return immediately.

Only ASCII digits are considered; that is how card and phone numbers are typed here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

EMAIL = "EMAIL"
PHONE = "PHONE"
CARD = "CARD"
IBAN = "IBAN"

# Tie-break when overlapping detections of different kinds are equally long.
KIND_PRIORITY = (CARD, IBAN, EMAIL, PHONE)
_RANK = {kind: rank for rank, kind in enumerate(KIND_PRIORITY)}

# Fewer digits than this and no "@" means none of the detectors can match.
_MIN_DIGITS = 7


@dataclass(frozen=True)
class PiiSpan:
    """A detected value: its kind and the [start, end) character range in the text."""

    kind: str
    start: int
    end: int


# ---------------------------------------------------------------------------
# Checksums
# ---------------------------------------------------------------------------


def luhn_valid(digits: str) -> bool:
    """Luhn (mod 10) check used by every payment card number."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if position % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


# IBAN letters count as two-digit numbers: A=10 ... Z=35.
_LETTER_VALUES = {
    ord(letter): str(value) for value, letter in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZ", 10)
}


def iban_valid(candidate: str) -> bool:
    """ISO 13616 check: country letters, two check digits, mod 97 of the rearranged text."""
    if not 15 <= len(candidate) <= 34 or not candidate.isascii() or not candidate.isalnum():
        return False
    if not (candidate[:2].isalpha() and candidate[2:4].isdigit()):
        return False
    rearranged = (candidate[4:] + candidate[:4]).upper()
    return int(rearranged.translate(_LETTER_VALUES)) % 97 == 1


# ---------------------------------------------------------------------------
# E-mail
# ---------------------------------------------------------------------------

# Matched from each "@" outwards rather than with one regex: a pattern that starts
# with the local part would retry from every character of a long run without a valid
# "@", which is quadratic, and addresses written back to back ("a@b.coc@d.org") must
# each be found.
_EMAIL_DOMAIN = re.compile(r"(?:[A-Za-z0-9\-]+\.)+[A-Za-z]{2,}")
_EMAIL_LOCAL_CHARS = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%+-"
)


def _find_emails(text: str) -> list[PiiSpan]:
    spans: list[PiiSpan] = []
    previous_end = 0
    at = text.find("@")
    while at != -1:
        domain = _EMAIL_DOMAIN.match(text, at + 1)
        if domain is not None:
            start = at
            while start > previous_end and text[start - 1] in _EMAIL_LOCAL_CHARS:
                start -= 1
            if start < at:
                spans.append(PiiSpan(EMAIL, start, domain.end()))
                previous_end = domain.end()
        at = text.find("@", max(at + 1, previous_end))
    return spans


# ---------------------------------------------------------------------------
# Payment cards
# ---------------------------------------------------------------------------

# At least 13 digits in groups separated by single spaces or dashes. Which groups form
# a card is decided afterwards, because a card may sit next to other numbers.
_DIGIT_GROUPS = re.compile(r"(?<![0-9])[0-9](?:[ \-]?[0-9]){12,}")
_GROUP = re.compile(r"[0-9]+")


def _find_cards(text: str) -> list[PiiSpan]:
    """Longest run of whole digit groups with 13-19 digits that passes Luhn."""
    spans: list[PiiSpan] = []
    for candidate in _DIGIT_GROUPS.finditer(text):
        groups = [
            (m.start() + candidate.start(), m.end() + candidate.start())
            for m in _GROUP.finditer(candidate.group(0))
        ]
        i = 0
        while i < len(groups):
            best_end = None
            digits = ""
            for j in range(i, len(groups)):
                digits += text[groups[j][0] : groups[j][1]]
                if len(digits) > 19:
                    break
                if len(digits) >= 13 and luhn_valid(digits):
                    best_end = j
            if best_end is None:
                i += 1
                continue
            spans.append(PiiSpan(CARD, groups[i][0], groups[best_end][1]))
            i = best_end + 1
    return spans


# ---------------------------------------------------------------------------
# IBAN
# ---------------------------------------------------------------------------

# IBAN length per country (ISO 13616 registry). Lets an IBAN glued to following text be
# cut at the right place; countries not listed fall back to group boundaries.
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22,
    "BH": 22, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28,
    "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20,
    "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24,
    "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24,
    "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SC": 31,
    "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24,
    "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}  # fmt: skip

_ASCII_DIGITS = frozenset("0123456789")
_IBAN_CANDIDATE = re.compile(
    r"(?<![A-Za-z0-9])[A-Za-z]{2}[0-9]{2}(?: ?[A-Za-z0-9]){11,30}", re.IGNORECASE
)


def _iban_end(text: str, start: int, matched: str) -> int | None:
    """End offset of a valid IBAN at the start of ``matched`` (found at ``start``).

    The candidate regex is greedy and may swallow following words, so try the
    registered length for the country first, then each space boundary, longest first.
    A cut right before a digit is refused: it would leave the rest of that number
    behind, which may itself be a card number.
    """
    chunks = matched.split(" ")
    compact = "".join(chunks).upper()
    ends: dict[int, int] = {}  # compact length -> text offset where it ends
    consumed = 0
    registered = IBAN_LENGTHS.get(compact[:2])
    for index, chunk in enumerate(chunks):
        if registered is not None and consumed < registered < consumed + len(chunk):
            ends[registered] = start + registered + index
        consumed += len(chunk)
        ends[consumed] = start + consumed + index
    lengths = sorted((n for n in ends if n >= 15), reverse=True)
    if registered in ends:
        lengths.remove(registered)
        lengths.insert(0, registered)
    for length in lengths:
        end = ends[length]
        if text[end : end + 1] not in _ASCII_DIGITS and iban_valid(compact[:length]):
            return end
    return None


def _find_ibans(text: str) -> list[PiiSpan]:
    spans = []
    for candidate in _IBAN_CANDIDATE.finditer(text):
        end = _iban_end(text, candidate.start(), candidate.group(0))
        if end is not None:
            spans.append(PiiSpan(IBAN, candidate.start(), end))
    return spans


# ---------------------------------------------------------------------------
# Phone numbers
# ---------------------------------------------------------------------------

# Digits with the characters phone numbers are written with: single separators, an
# optional "+" and brackets. Must not continue a word or number on either side; a
# trailing ".5" or ",5" means a decimal, ":" a time, "/" a date or fraction.
# Every repeated group starts with a separator, "(" or a preceding ")", so a run of
# digits can be split only one way and a failed match cannot backtrack exponentially.
_PHONE_CANDIDATE = re.compile(
    r"(?<![\w+/:.,$£€¥\-])(?:\+ ?)?\(?[0-9]+\)?"
    r"(?:(?:[ .\-]{1,2}\(?|\(|(?<=\)))[0-9]+\)?)*"
    r"(?![\w/:]|[.,][0-9])"
)
_PHONE_CHUNK = re.compile(r"\S+")
_NON_DIGITS = re.compile(r"[^0-9]+")
_DASH_OR_DOT = re.compile(r"[0-9][.\-][0-9]")
_PUNCTUATED = re.compile(r"[.\-()+]")
_DATE_SHAPE = re.compile(
    r"\(?(?:[0-9]{4}[.\-][0-9]{1,2}[.\-][0-9]{1,2}|[0-9]{1,2}[.\-][0-9]{1,2}[.\-][0-9]{2,4})\)?"
)
_DOTTED_QUAD = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}")
_YEAR = re.compile(r"(?:19|20)[0-9]{2}")
_WORD = re.compile(r"[A-Za-z#]+\.?|[0-9][\w\-]*")

# Words right before a number that mark it as an identifier rather than a phone...
_ID_WORDS = frozenset(
    {
        "order", "orders", "invoice", "ticket", "case", "ref", "ref.", "reference",
        "tracking", "confirmation", "account", "acct", "sku", "serial", "id", "po",
        "booking", "reservation", "transaction", "txn", "claim", "policy", "member",
        "item", "product", "model", "part", "shipment", "parcel",
    }
)  # fmt: skip
# ...and words that say it is one. A phone word wins over an identifier word
# ("phone number" vs "order number"); a bare "number" only counts when neither is there.
_PHONE_WORDS = frozenset(
    {
        "call", "called", "calling", "phone", "phoned", "tel", "tel.", "telephone",
        "mobile", "mob", "mob.", "cell", "cellphone", "ph", "ph.", "sms", "text", "texted",
        "whatsapp", "fax", "landline", "dial", "dialled", "dialed", "reach", "contact",
        "callback", "cb", "ring", "rang",
    }
)  # fmt: skip
# Unformatted ten-digit North American numbers: area code and exchange start with 2-9.
_NANP = re.compile(r"1?[2-9][0-9]{2}[2-9][0-9]{6}")
_CURRENCY_BEFORE = frozenset("$£€¥")


def _context_words(text: str, start: int) -> list[str]:
    """Up to three words just before ``start``, nearest first, stopping at a number.

    Three, so that "call me on 555-0132" and "order no. 12345678" are both understood.
    """
    window = text[max(0, start - 40) : start]
    words = [m.group(0).lower() for m in _WORD.finditer(window)][-3:]
    words.reverse()
    result = []
    for word in words:
        if word[0].isdigit():
            break
        result.append(word)
    return result


def _is_phone(run: str, context: list[str]) -> bool:
    """Structural rules for one run of digit groups (see module docstring).

    ``context`` holds the words just before the run, nearest first (_context_words).
    """
    digits = _NON_DIGITS.sub("", run)
    if len(digits) < _MIN_DIGITS or run.count("(") != run.count(")"):
        return False

    if run.startswith("+"):
        return 8 <= len(digits) <= 15
    if run.startswith("00") and len(digits) > 2 and digits[2] != "0":
        return 8 <= len(digits) - 2 <= 15

    if _DATE_SHAPE.fullmatch(run) or _DOTTED_QUAD.fullmatch(run):
        return False
    groups = _GROUP.findall(run)
    if all(len(group) == 4 and _YEAR.fullmatch(group) for group in groups):
        return False
    if len(groups) == 2 and "." in run and len(groups[1]) <= 2:
        return False  # a decimal amount such as 12345.67

    if not _PHONE_WORDS.isdisjoint(context):
        return len(digits) <= 15
    if not _ID_WORDS.isdisjoint(context):
        return False
    if "number" in context:
        return len(digits) <= 15

    # Without context: a national number with its trunk "0" however it is grouped, the
    # North American 10 digits (bracketed, grouped 3-3-4 or bare), or three or more
    # groups joined by dashes or dots. Plain space-separated groups without a trunk "0"
    # ("1234 5678 9012") are as likely to be a reference number, so they stay.
    if digits.startswith("0"):
        return 10 <= len(digits) <= 11
    if _NANP.fullmatch(digits):
        return (
            len(groups) == 1
            or run.startswith("(")
            or [len(group) for group in groups[-3:]] == [3, 3, 4]
        )
    return len(groups) >= 3 and bool(_DASH_OR_DOT.search(run)) and 9 <= len(digits) <= 12


# No phone number has more than 17 digits (15 plus an "00" prefix); bounding runs by it
# keeps the work linear on long sequences of numbers.
_MAX_PHONE_DIGITS = 17


def _find_phones(text: str, found: list[PiiSpan]) -> list[PiiSpan]:
    """Longest valid run of whole chunks in each candidate, left to right.

    A candidate can join a phone number to a neighbouring date or number
    ("2024-03-15 415-555-0132"), so runs of its space-separated chunks are tried too.
    Chunks starting inside an already ``found`` span (a card, say) are skipped: they
    are redacted anyway, and card numbers are the costliest candidates to examine.
    """
    covered = [(span.start, span.end) for span in found]
    spans: list[PiiSpan] = []
    for candidate in _PHONE_CANDIDATE.finditer(text):
        matched = candidate.group(0)
        if len(matched) < _MIN_DIGITS or len(_NON_DIGITS.sub("", matched)) < _MIN_DIGITS:
            continue
        base = candidate.start()
        chunks = [(m.start() + base, m.end() + base) for m in _PHONE_CHUNK.finditer(matched)]
        digit_counts = [len(_NON_DIGITS.sub("", text[a:b])) for a, b in chunks]
        base_context: list[str] | None = None
        i = 0
        while i < len(chunks):
            start = chunks[i][0]
            if any(a <= start < b for a, b in covered) or (
                text[max(0, start - 2) : start].rstrip(" ")[-1:] in _CURRENCY_BEFORE
            ):
                i += 1
                continue
            totals = [digit_counts[i]]
            while i + len(totals) < len(chunks):
                total = totals[-1] + digit_counts[i + len(totals)]
                if total > _MAX_PHONE_DIGITS:
                    break
                totals.append(total)
            own_context: list[str] | None = None
            hit: int | None = None  # index of the last chunk of the accepted run
            for j in range(i + len(totals) - 1, i - 1, -1):
                if totals[j - i] < _MIN_DIGITS:
                    break
                end = chunks[j][1]
                run = text[start:end]
                # The tail of a plainly spaced number ("order 1234 5678 9012 3456") is
                # part of that number, so it keeps the words before the whole run; a
                # tail punctuated like a phone number ("12345 415-555-0132") stands alone.
                if i == 0 or _PUNCTUATED.search(run):
                    if own_context is None:
                        own_context = _context_words(text, start)
                    context = own_context
                else:
                    if base_context is None:
                        base_context = _context_words(text, base)
                    context = base_context
                if _is_phone(run, context):
                    hit = j
                    break
            if hit is None:
                i += 1
            else:
                spans.append(PiiSpan(PHONE, start, chunks[hit][1]))
                i = hit + 1
    return spans


# ---------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------


def _may_contain_pii(text: str) -> bool:
    if "@" in text:
        return True
    digits = 0
    for digit in "0123456789":
        digits += text.count(digit)
        if digits >= _MIN_DIGITS:
            return True
    return False


def _merge(spans: list[PiiSpan]) -> list[PiiSpan]:
    """Union overlapping spans; each union takes the kind of its longest member.

    The longest member is the best description ("GB82 WEST ... 32" is an IBAN even if a
    run of its digits happens to pass Luhn); KIND_PRIORITY breaks ties.
    """
    merged: list[PiiSpan] = []
    best: list[PiiSpan] = []  # the member that names each merged span
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if merged and span.start < merged[-1].end:
            last, leader = merged[-1], best[-1]
            if (span.end - span.start, -_RANK[span.kind]) > (
                leader.end - leader.start,
                -_RANK[leader.kind],
            ):
                best[-1] = leader = span
            merged[-1] = PiiSpan(leader.kind, last.start, max(last.end, span.end))
        else:
            merged.append(span)
            best.append(span)
    return merged


def find_pii(text: str) -> list[PiiSpan]:
    """Non-overlapping PII spans in ``text``, sorted by position."""
    if not text or not _may_contain_pii(text):
        return []
    spans = _find_emails(text) if "@" in text else []
    spans += _find_cards(text)
    spans += _find_ibans(text)
    spans += _find_phones(text, spans)
    return _merge(spans)


def _apply(text: str, spans: list[PiiSpan]) -> str:
    parts: list[str] = []
    position = 0
    for span in spans:
        parts.append(text[position : span.start])
        parts.append(f"<{span.kind}>")
        position = span.end
    parts.append(text[position:])
    return "".join(parts)


def redact_pii(text: str) -> str:
    """``text`` with every detected value replaced by its typed placeholder."""
    spans = find_pii(text)
    return _apply(text, spans) if spans else text


def redact_counts(text: str) -> tuple[str, dict[str, int]]:
    """Redacted text plus how many values of each kind were replaced, for metrics.

    Kinds that did not occur are absent from the dict.
    """
    spans = find_pii(text)
    if not spans:
        return text, {}
    counts: dict[str, int] = {}
    for span in spans:
        counts[span.kind] = counts.get(span.kind, 0) + 1
    return _apply(text, spans), counts
