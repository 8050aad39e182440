"""Redaction of personal data from free text before it reaches department-facing tables.

Agents paste whatever the customer says into notes: card numbers read out over the
phone, e-mail addresses, call-back numbers, bank details. Departments need the text for
root-cause analysis but must never see those values, so every event passes through
:func:`redact_pii`, which swaps them for typed placeholders (``<EMAIL>``, ``<PHONE>``,
``<CARD>``, ``<IBAN>``) that keep the sentence readable and countable.

Design choices:
  * Checksums decide for cards (Luhn) and IBANs (ISO 7064 mod 97), so long order or
    ticket numbers that merely look like them survive. Layout helps the checksum:
    cards are written and read out in blocks of four, so a grouped card leads with
    whole blocks ("112-3456789-0123456" is an order number even though its last 14
    digits pass Luhn), and a card read out in pieces a few words apart ("4111 1111,
    rest is 1111 1111") is found from its blocks, its issuer digit and Luhn.
  * Phone numbers have no checksum, so their rules are structural: the number's
    shape and the words just before it ("call ..." vs "order ..."). A bare number in
    no phone shape is kept: without context it is more likely an order or ticket id.
    Those rules, and the search that keeps them fast, are in find_phone_numbers.
  * When detections overlap, the union is redacted: leaking part of a number is worse
    than hiding a few extra characters.
  * This runs on every event, so texts that cannot contain any of these (no "@" and
    fewer than two digits) return immediately, and fewer than seven digits rule out
    cards and phones. An IBAN needs only its two check digits: some countries' account
    numbers may be all letters.

Only ASCII digits are considered; that is how card and phone numbers are typed here.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from itertools import accumulate

from voc.transforms.find_phone_numbers import find_phones as _find_phones
from voc.transforms.pii_span import (
    CARD,
    DIGIT_GROUP,
    EMAIL,
    IBAN,
    MIN_DIGITS,
    NON_DIGITS,
    PHONE,
    PiiSpan,
)

# Tie-break when overlapping detections of different kinds are equally long.
KIND_PRIORITY = (CARD, IBAN, EMAIL, PHONE)
_RANK = {kind: rank for rank, kind in enumerate(KIND_PRIORITY)}
# Fewer than MIN_DIGITS digits rule out cards and phone numbers, and fewer than this
# IBANs too (the check digits), so without an "@" nothing can match.
_IBAN_MIN_DIGITS = 2


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
# Apostrophes are valid in a local part and common in Irish and Italian names
# (o'connor.sean@, d'angelo@); phone keyboards type U+2019 for them. Only an interior
# one counts: an apostrophe with no address character before it is a quote mark
# ('jane@example.com'), and stopping at it left "o'" of the address unredacted.
_EMAIL_APOSTROPHES = frozenset("'\u2019")


def _local_part_start(text: str, at: int, floor: int) -> int:
    """Where the local part ending just before ``text[at]`` (an "@") begins, not before floor."""
    start = at
    while start > floor:
        char = text[start - 1]
        interior_apostrophe = (
            char in _EMAIL_APOSTROPHES
            and start < at
            and start - 1 > floor
            and text[start - 2] in _EMAIL_LOCAL_CHARS
        )
        if char not in _EMAIL_LOCAL_CHARS and not interior_apostrophe:
            break
        start -= 1
    return start


def _find_emails(text: str) -> list[PiiSpan]:
    spans: list[PiiSpan] = []
    previous_end = 0
    at = text.find("@")
    while at != -1:
        domain = _EMAIL_DOMAIN.match(text, at + 1)
        if domain is not None:
            start = _local_part_start(text, at, previous_end)
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


# Luhn's doubled digit, digit sum taken: 2d, minus 9 when that has two digits.
_LUHN_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)


def _luhn_prefix_sums(digits: str) -> tuple[list[int], list[int]]:
    """Prefix sums of Luhn terms with the doubling on even, and on odd, positions.

    Luhn doubles every second digit counted from the right end, so which positions are
    doubled depends on where a run ends: a run ending at ``end`` doubles the positions
    with the parity of ``end``. With both sums, any run's checksum is one subtraction.
    """
    plain = [ord(char) - 48 for char in digits]
    doubled = [_LUHN_DOUBLED[value] for value in plain]
    doubled_on_even = plain.copy()
    doubled_on_even[0::2] = doubled[0::2]
    doubled_on_odd = plain.copy()
    doubled_on_odd[1::2] = doubled[1::2]
    return (
        list(accumulate(doubled_on_even, initial=0)),
        list(accumulate(doubled_on_odd, initial=0)),
    )


# Card numbers are printed, read out and typed in blocks of four digits (Amex's 4-6-5
# and Diners' 4-6-4 also lead with four), so a grouped card starts with a multiple of
# four digits. Order, ticket and serial numbers are laid out otherwise: "112-3456789-
# 0123456" holds a Luhn-valid "3456789-0123456" that no one would write as a card.
_CARD_BLOCK = 4


def _find_cards(text: str) -> list[PiiSpan]:
    """Longest run of whole digit groups with 13-19 digits that passes Luhn.

    A run of several groups must lead with a multiple of four digits (cards are
    written in blocks of four); an unbroken run of 13-19 digits is a card whatever
    precedes it.

    Every group may start a card and a run of short groups ("4 1 1 1 ...") offers up to
    seven ends per start, so on hostile text (20,000 characters of "7 7 7 ...") the work
    per group must be constant: the ends worth trying come from bisecting the groups'
    digit offsets, and each Luhn check is a difference of prefix sums.
    """
    spans: list[PiiSpan] = []
    for candidate in _DIGIT_GROUPS.finditer(text):
        base = candidate.start()
        groups = [
            (m.start() + base, m.end() + base) for m in DIGIT_GROUP.finditer(candidate.group(0))
        ]
        # offsets[k]: digits before group k, so groups i..j hold offsets[j+1] - offsets[i].
        offsets = list(accumulate((end - start for start, end in groups), initial=0))
        sums: tuple[list[int], list[int]] | None = None  # built on first use
        i = 0
        while i < len(groups):
            first = offsets[i]
            shortest = bisect_left(offsets, first + 13, i + 1) - 1  # first end with 13+ digits
            longest = bisect_right(offsets, first + 19, i + 1) - 2  # last end with <= 19
            if (offsets[i + 1] - first) % _CARD_BLOCK:
                longest = min(longest, i)  # this group can only be a card on its own
            best_end = None
            for j in range(longest, shortest - 1, -1):
                if sums is None:
                    sums = _luhn_prefix_sums(NON_DIGITS.sub("", candidate.group(0)))
                end = offsets[j + 1]
                terms = sums[0] if end % 2 == 0 else sums[1]
                if (terms[end] - terms[first]) % 10 == 0:
                    best_end = j
                    break
            if best_end is None:
                i += 1
                continue
            spans.append(PiiSpan(CARD, groups[i][0], groups[best_end][1]))
            i = best_end + 1
    return spans


# A card read out in pieces ("4111 1111, rest is 1111 1111"): digit fragments a few
# words apart that together make a card. A fragment is a run of digit groups joined
# by single spaces or dashes; one glued to a word, an amount, a time or a "+" is some
# other value. Each fragment but the last holds whole blocks of four (that is how a card
# is read), the whole holds 13-19 digits, starts with an issuer's digit and passes Luhn.
_CARD_FRAGMENT = re.compile(r"[0-9]+(?:[ \-][0-9]+)*")
_GLUED_BEFORE = frozenset(".,/:+-#$£€¥%_")
_GLUED_AFTER = frozenset("/:%_")
_GAP_WORD = re.compile(r"[^\W\d_]+")
# At most this many words, and characters, between two fragments of one card.
_MAX_GAP_WORDS = 3
_MAX_GAP_CHARS = 24


def _issuer_digits(digits: str) -> bool:
    """Whether ``digits`` start like a payment card (ISO/IEC 7812 industry digits 3-6).

    Industry digit 2 is airlines except Mastercard's 2221-2720, which also keeps years
    ("2019, 2020, 2021 and 2023") from adding up to a card.
    """
    return digits[0] in "3456" or "2221" <= digits[:4] <= "2720"


def _usable_fragment(text: str, start: int, end: int) -> bool:
    before = text[start - 1 : start]
    after = text[end : end + 2]
    return not (
        (before and (before.isalnum() or before in _GLUED_BEFORE))
        or (after[:1] and (after[:1].isalnum() or after[:1] in _GLUED_AFTER))
        or (after[:1] in (".", ",") and after[1:].isdigit())
    )


def _short_gap(gap: str) -> bool:
    return len(gap) <= _MAX_GAP_CHARS and len(_GAP_WORD.findall(gap)) <= _MAX_GAP_WORDS


def _find_split_cards(text: str) -> list[PiiSpan]:
    """Cards split across a few words: one CARD span per fragment, the words between kept.

    Longest chain of fragments from each start, like _find_cards. A chain needs at least
    two fragments (one alone is _find_cards' business) and every fragment but the last
    has four or more digits, so no chain spans more than five fragments: linear time.
    Each fragment is its own span, so redact_counts counts the pieces of such a card.
    """
    fragments = [
        (m.start(), m.end(), NON_DIGITS.sub("", m.group(0))) for m in _CARD_FRAGMENT.finditer(text)
    ]
    spans: list[PiiSpan] = []
    i = 0
    while i < len(fragments):
        best_end = None
        digits = ""
        j = i
        while j < len(fragments) and len(digits) < 19:
            start, end, piece = fragments[j]
            if not _usable_fragment(text, start, end):
                break
            if j > i and not _short_gap(text[fragments[j - 1][1] : start]):
                break
            digits += piece
            if j > i and 13 <= len(digits) <= 19 and _issuer_digits(digits) and luhn_valid(digits):
                best_end = j
            if len(piece) % _CARD_BLOCK:
                break  # only the last piece may hold a part block
            j += 1
        if best_end is None:
            i += 1
            continue
        spans += [PiiSpan(CARD, start, end) for start, end, _ in fragments[i : best_end + 1]]
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
_IBAN_SEPARATOR = re.compile(r"[ \-]")
# No re.IGNORECASE: the classes already spell both cases, and the flag's only other
# effect was Unicode folding, which made the long s (U+017F) or the Kelvin sign
# count as a letter before an IBAN and so hid it from redaction.
_IBAN_CANDIDATE = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}[0-9]{2}(?:[ \-]?[A-Za-z0-9]){11,30}")


def _iban_end(text: str, start: int, matched: str) -> int | None:
    """End offset of a valid IBAN at the start of ``matched`` (found at ``start``).

    The candidate regex is greedy and may swallow following words, so try the
    registered length for the country first, then each group boundary (a space or a
    dash, as in "GB82-WEST-1234-..."), longest first.
    A cut right before a digit is refused: it would leave the rest of that number
    behind, which may itself be a card number.
    """
    chunks = _IBAN_SEPARATOR.split(matched)
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
# Public API
# ---------------------------------------------------------------------------


def _digits_up_to(text: str, cap: int) -> int:
    """How many ASCII digits ``text`` has, stopping the count once it reaches ``cap``."""
    digits = 0
    for digit in "0123456789":
        digits += text.count(digit)
        if digits >= cap:
            break
    return digits


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
    if not text:
        return []
    digits = _digits_up_to(text, MIN_DIGITS)
    has_at = "@" in text
    if digits < _IBAN_MIN_DIGITS and not has_at:
        return []
    spans = _find_emails(text) if has_at else []
    if digits >= MIN_DIGITS:
        spans += _find_cards(text)
        spans += _find_split_cards(text)
    if digits >= _IBAN_MIN_DIGITS:
        spans += _find_ibans(text)
    if digits >= MIN_DIGITS:
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
