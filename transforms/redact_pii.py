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
    fewer than two digits) return immediately, and fewer than seven digits rule out
    cards and phones. An IBAN needs only its two check digits: some countries' account
    numbers may be all letters.

Only ASCII digits are considered; that is how card and phone numbers are typed here.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from itertools import accumulate

EMAIL = "EMAIL"
PHONE = "PHONE"
CARD = "CARD"
IBAN = "IBAN"

# Tie-break when overlapping detections of different kinds are equally long.
KIND_PRIORITY = (CARD, IBAN, EMAIL, PHONE)
_RANK = {kind: rank for rank, kind in enumerate(KIND_PRIORITY)}

# Fewer digits than this rule out cards and phone numbers...
_MIN_DIGITS = 7
# ...and fewer than this IBANs too (the check digits), so without an "@" nothing can match.
_IBAN_MIN_DIGITS = 2


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


def _find_cards(text: str) -> list[PiiSpan]:
    """Longest run of whole digit groups with 13-19 digits that passes Luhn.

    Every group may start a card and a run of short groups ("4 1 1 1 ...") offers up to
    seven ends per start, so on hostile text (20,000 characters of "7 7 7 ...") the work
    per group must be constant: the ends worth trying come from bisecting the groups'
    digit offsets, and each Luhn check is a difference of prefix sums.
    """
    spans: list[PiiSpan] = []
    for candidate in _DIGIT_GROUPS.finditer(text):
        base = candidate.start()
        groups = [(m.start() + base, m.end() + base) for m in _GROUP.finditer(candidate.group(0))]
        # offsets[k]: digits before group k, so groups i..j hold offsets[j+1] - offsets[i].
        offsets = list(accumulate((end - start for start, end in groups), initial=0))
        sums: tuple[list[int], list[int]] | None = None  # built on first use
        i = 0
        while i < len(groups):
            first = offsets[i]
            shortest = bisect_left(offsets, first + 13, i + 1) - 1  # first end with 13+ digits
            longest = bisect_right(offsets, first + 19, i + 1) - 2  # last end with <= 19
            best_end = None
            for j in range(longest, shortest - 1, -1):
                if sums is None:
                    sums = _luhn_prefix_sums(_NON_DIGITS.sub("", candidate.group(0)))
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
# Phone numbers
# ---------------------------------------------------------------------------

# Digits with the characters phone numbers are written with: single separators, an
# optional "+" (also in brackets with its country code: "(+44) 20 ...") and brackets.
# Must not continue a word or number on either side; a trailing ".5" or ",5" means a
# decimal, ":" a time, "/" a date or fraction. A ":" or "." right after a letter is a
# label ("mob:07700 900123", "tel.+44 ..."), which agents type without a space, so a
# number may start there.
# Every repeated group starts with a separator, "(" or a preceding ")", so a run of
# digits can be split only one way and a failed match cannot backtrack exponentially.
# The leading lookahead lets the engine dismiss most positions with one test instead
# of two lookbehinds; it halves the scan of ordinary text.
_PHONE_CANDIDATE = re.compile(
    r"(?=[(+0-9])(?:(?<![\w+/:.,$£€¥\-])|(?<=[A-Za-z][:.]))(?:\(\+ ?[0-9]+\)|(?:\+ ?)?\(?[0-9]+\)?)"
    r"(?:(?:[ .\-]{1,2}\(?|\(|(?<=\)))[0-9]+\)?)*"
    r"(?![\w/:]|[.,][0-9])"
)
_PHONE_CHUNK = re.compile(r"\S+")
_NON_DIGITS = re.compile(r"[^0-9]+")
_DASH_OR_DOT = re.compile(r"[0-9][.\-][0-9]")
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

    if run.startswith(("+", "(+")):
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

# Which of _is_phone's context rules applies to a run (a phone word beats an identifier
# word, which beats a bare "number").
_PHONE_CONTEXT, _ID_CONTEXT, _NUMBER_CONTEXT, _NO_CONTEXT = range(4)
_WORDY = (_PHONE_CONTEXT, _NUMBER_CONTEXT)


def _context_kind(context: list[str]) -> int:
    if not _PHONE_WORDS.isdisjoint(context):
        return _PHONE_CONTEXT
    if not _ID_WORDS.isdisjoint(context):
        return _ID_CONTEXT
    if "number" in context:
        return _NUMBER_CONTEXT
    return _NO_CONTEXT


def _digit_bounds(lead: str, international: bool, zero_first: bool, kind: int) -> tuple[int, int]:
    """Digit counts for which _is_phone can accept a run; outside them it surely rejects.

    Follows _is_phone's rules in their order; (1, 0) means no run can pass.
    """
    if lead == "+":
        return 8, 15
    if international:
        return 10, 17
    if kind in _WORDY:
        return _MIN_DIGITS, 15
    if kind == _ID_CONTEXT:
        return 1, 0
    if zero_first:
        return 10, 11
    return 9, 12  # a North American 10 or 11 digits, or 9-12 joined by dashes or dots


class _Chunks:
    """The space-separated chunks of one phone candidate, summarised for constant-time tests.

    A candidate of n chunks has O(n) runs worth trying and _is_phone costs several
    regular expressions a run; on hostile text (20,000 characters of "7 7 7 ...") that
    took most of a second. These prefix counts answer "could chunks i..j be a phone
    number at all?" in constant time, so _is_phone only sees runs it might accept, and
    most starts are dismissed without looking at any run.
    """

    def __init__(self, base: int, matched: str) -> None:
        self.bounds = [(m.start() + base, m.end() + base) for m in _PHONE_CHUNK.finditer(matched)]
        pieces = [matched[a - base : b - base] for a, b in self.bounds]
        count = len(pieces)
        self.digits = _NON_DIGITS.sub("", matched)
        # A candidate holds only digits, spaces and "+().-", so a chunk is punctuated
        # exactly when it is not all digits.
        plain = [piece.isdigit() for piece in pieces]
        group_lengths: list[int] = []
        group_counts: list[int] = []
        digit_counts: list[int] = []
        dash_or_dot: list[bool] = []
        balance: list[int] = []
        for piece, is_plain in zip(pieces, plain, strict=True):
            if is_plain:
                group_lengths.append(len(piece))
                group_counts.append(1)
                digit_counts.append(len(piece))
                dash_or_dot.append(False)
                balance.append(0)
            else:
                lengths = [len(group) for group in _GROUP.findall(piece)]
                group_lengths += lengths
                group_counts.append(len(lengths))
                digit_counts.append(sum(lengths))
                dash_or_dot.append(_DASH_OR_DOT.search(piece) is not None)
                balance.append(piece.count("(") - piece.count(")"))
        self.group_lengths = group_lengths
        self.offsets = list(accumulate(digit_counts, initial=0))  # digits before chunk k
        self.groups = list(accumulate(group_counts, initial=0))  # groups before chunk k
        self.punctuated = list(accumulate((not p for p in plain), initial=0))
        self.dash_or_dot = list(accumulate(dash_or_dot, initial=0))
        self.paren_balance = list(accumulate(balance, initial=0))

        # Starts that can begin a run passing the structural rules that need no
        # context word, no "+", no "(" and no leading zero: a run holding a chunk with
        # a dash or dot within 12 digits, or a North American number of 10-11 digits
        # that is one group or ends in 3-3-4 groups.
        self.structural = [False] * count
        next_dashed = count
        for k in range(count - 1, -1, -1):
            if dash_or_dot[k]:
                next_dashed = k
            if next_dashed < count and self.offsets[next_dashed + 1] - self.offsets[k] <= 12:
                self.structural[k] = True
            if group_counts[k] == 1 and digit_counts[k] in (10, 11):
                self.structural[k] = True
        chunk_of_group = [k for k in range(count) for _ in range(group_counts[k])]
        starts_at: dict[int, list[int]] = {}
        for k in range(count):
            starts_at.setdefault(self.offsets[k], []).append(k)
        for j in range(count):
            last = self.groups[j + 1]
            if last >= 3 and group_lengths[last - 3 : last] == [3, 3, 4]:
                earliest_end = chunk_of_group[last - 3]
                for length in (10, 11):
                    for k in starts_at.get(self.offsets[j + 1] - length, ()):
                        if k <= earliest_end:
                            self.structural[k] = True

    def shape_allows(self, i: int, j: int, count: int, lead: str) -> bool:
        """Without a context word, "+" or leading zero: the run's structure must qualify."""
        groups = self.groups[j + 1] - self.groups[i]
        if count in (10, 11) and _NANP.fullmatch(self.digits, self.offsets[i], self.offsets[j + 1]):
            last = self.groups[j + 1]
            if (
                groups == 1
                or lead == "("
                or (groups >= 3 and self.group_lengths[last - 3 : last] == [3, 3, 4])
            ):
                return True
        return groups >= 3 and self.dash_or_dot[j + 1] > self.dash_or_dot[i] and count <= 12


def _find_phones(text: str, found: list[PiiSpan]) -> list[PiiSpan]:
    """Longest valid run of whole chunks in each candidate, left to right.

    A candidate can join a phone number to a neighbouring date or number
    ("2024-03-15 415-555-0132"), so runs of its space-separated chunks are tried too.
    A chunk starting inside an already ``found`` span (a card, say) does not start a
    run that claims the chunks after it, since it is redacted anyway; but a phone number
    from there that reaches past the span is kept as well, or a number whose first
    digits happen to pass Luhn ("00852 10 00 01 89 0") would leave its tail behind.
    """
    covered = _stretches(text, found)
    covered_starts = [a for a, _ in covered]
    spans: list[PiiSpan] = []
    for candidate in _PHONE_CANDIDATE.finditer(text):
        matched = candidate.group(0)
        if len(matched) < _MIN_DIGITS or len(_NON_DIGITS.sub("", matched)) < _MIN_DIGITS:
            continue
        base = candidate.start()
        chunks = _Chunks(base, matched)
        base_context = _context_words(text, base)
        base_kind = _context_kind(base_context)
        i = 0
        while i < len(chunks.bounds):
            start = chunks.bounds[i][0]
            if text[max(0, start - 2) : start].rstrip(" ")[-1:] in _CURRENCY_BEFORE:
                i += 1
                continue
            inside = bisect_right(covered_starts, start) - 1
            if inside >= 0 and start < covered[inside][1]:
                # Only worth a look when a run from here could reach past the span.
                reach = bisect_right(chunks.offsets, chunks.offsets[i] + _MAX_PHONE_DIGITS) - 2
                if chunks.bounds[max(reach, i)][1] > covered[inside][1]:
                    hit = _phone_run_from(text, chunks, i, base_context, base_kind)
                    if hit is not None and chunks.bounds[hit][1] > covered[inside][1]:
                        spans.append(PiiSpan(PHONE, start, chunks.bounds[hit][1]))
                i += 1
                continue
            hit = _phone_run_from(text, chunks, i, base_context, base_kind)
            if hit is None:
                i += 1
            else:
                spans.append(PiiSpan(PHONE, start, chunks.bounds[hit][1]))
                i = hit + 1
    return spans


def _phone_run_from(
    text: str, chunks: _Chunks, i: int, base_context: list[str], base_kind: int
) -> int | None:
    """Index of the last chunk of the longest phone-number run starting at chunk i."""
    start = chunks.bounds[i][0]
    first = chunks.offsets[i]
    digits = chunks.digits
    lead = "+" if text.startswith("(+", start) else text[start]
    zero_first = digits[first : first + 1] == "0"
    third_digit = digits[first + 2 : first + 3]
    international = text.startswith("00", start) and third_digit not in ("", "0")
    # A run that is punctuated, or starts the candidate, is judged by the words just
    # before its own first chunk. Past the first chunk those words are the previous
    # chunk's digits, which _context_words stops at, unless that chunk has no digits
    # (a lone "+"); computing them is skipped when it cannot matter.
    if i == 0:
        own_context, own_kind = base_context, base_kind
    elif chunks.offsets[i - 1] == first:
        own_context = _context_words(text, start)
        own_kind = _context_kind(own_context)
    else:
        own_context, own_kind = [], _NO_CONTEXT
    if (
        lead not in "+("
        and not zero_first
        and own_kind not in _WORDY
        and (i == 0 or base_kind not in _WORDY)
        and not chunks.structural[i]
    ):
        return None

    offsets = chunks.offsets
    # The tail of a plainly spaced number ("order 1234 5678 9012 3456") is part of that
    # number, so it keeps the words before the whole run; a tail punctuated like a
    # phone number ("12345 415-555-0132") stands alone. Runs ending at or after the
    # first punctuated chunk from i therefore use own_context, earlier ones base_context.
    if i == 0:
        first_punctuated = 0
    else:
        first_punctuated = bisect_right(chunks.punctuated, chunks.punctuated[i], i + 1) - 1
    kinds = {own_kind, base_kind} if first_punctuated > i else {own_kind}
    ranges = [_digit_bounds(lead, international, zero_first, kind) for kind in kinds]
    ranges = [(low, high) for low, high in ranges if low <= high]
    if not ranges:
        return None
    low = min(low for low, _ in ranges)
    high = max(high for _, high in ranges)
    longest = bisect_right(offsets, first + high, i + 1) - 2
    shortest = bisect_left(offsets, first + low, i + 1) - 1
    for j in range(longest, shortest - 1, -1):
        if j >= first_punctuated:
            context, kind = own_context, own_kind
        else:
            context, kind = base_context, base_kind
        count = offsets[j + 1] - first
        kind_low, kind_high = _digit_bounds(lead, international, zero_first, kind)
        if not kind_low <= count <= kind_high:
            continue
        if chunks.paren_balance[j + 1] != chunks.paren_balance[i]:
            continue
        if (
            lead != "+"
            and not international
            and kind == _NO_CONTEXT
            and not zero_first
            and not chunks.shape_allows(i, j, count, lead)
        ):
            continue
        if _is_phone(text[start : chunks.bounds[j][1]], context):
            return j
    return None


def _stretches(text: str, spans: list[PiiSpan]) -> list[tuple[int, int]]:
    """Sorted, disjoint [start, end) ranges that ``spans`` redact, for bisecting.

    Spans apart only by whitespace make one stretch: no chunk starts in the gap, and a
    text of back-to-back card numbers would otherwise have every span's last digits
    tried as the start of a phone number reaching into the next.
    """
    ranges: list[tuple[int, int]] = []
    for span in sorted(spans, key=lambda s: s.start):
        if ranges and (span.start <= ranges[-1][1] or text[ranges[-1][1] : span.start].isspace()):
            ranges[-1] = (ranges[-1][0], max(ranges[-1][1], span.end))
        else:
            ranges.append((span.start, span.end))
    return ranges


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
    digits = _digits_up_to(text, _MIN_DIGITS)
    has_at = "@" in text
    if digits < _IBAN_MIN_DIGITS and not has_at:
        return []
    spans = _find_emails(text) if has_at else []
    if digits >= _MIN_DIGITS:
        spans += _find_cards(text)
    if digits >= _IBAN_MIN_DIGITS:
        spans += _find_ibans(text)
    if digits >= _MIN_DIGITS:
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
