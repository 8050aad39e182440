"""Find phone numbers in free text, for redact_pii.

Phone numbers have no checksum, so their rules are structural: an international
prefix ("+" or "00"), a trunk "0" (also with the area code written apart by a slash,
"030/12345678"), the North American 3-3-4 shape, groups joined by dashes or dots
behind a two- or three-digit prefix, and the words just before the number ("call
..." or "móvil ..." makes even a seven-digit local number a phone; "order ...",
"Rechnung ..." or "SN ..." makes a number an identifier). Feedback arrives in several
languages, so those words do too. Dates, times, amounts, versions, IP addresses, years,
serials and short numbers do not qualify. A bare number in none of these shapes is
kept: without context it is more likely an order or ticket id.

_is_phone applies those rules to one run of digit groups. A candidate can hold a
phone number next to a date or another number, so runs of its chunks are tried,
longest first; since this runs on every event, and on hostile text the runs are
many, _Chunks and _digit_bounds dismiss the runs the rules would surely reject
before _is_phone sees them, keeping the search linear.

Only ASCII digits are considered; that is how phone numbers are typed here.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from itertools import accumulate

from voc.transforms.pii_span import DIGIT_GROUP, MIN_DIGITS, NON_DIGITS, PHONE, PiiSpan

# Digits with the characters phone numbers are written with: single separators, an
# optional "+" (also in brackets with its country code: "(+44) 20 ...") and brackets.
# Must not continue a word or number on either side; a trailing ".5" or ",5" means a
# decimal, ":" a time, "/" a date or fraction. A ":" or "." right after a letter is a
# label ("mob:07700 900123", "tel.+44 ..."), which agents type without a space, so a
# number may start there.
# A "/" joins digits only after a trunk "0" and an area code ("030/12345678", the
# German and Austrian way of writing the area code apart): elsewhere it is a date,
# a fraction or an invoice number ("15/03/2024", "2024/123456").
# Every repeated group starts with a separator, "(" or a preceding ")", so a run of
# digits can be split only one way and a failed match cannot backtrack exponentially.
# The leading lookahead lets the engine dismiss most positions with one test instead
# of two lookbehinds; it halves the scan of ordinary text.
_PHONE_CANDIDATE = re.compile(
    r"(?=[(+0-9])(?:(?<![\w+/:.,$£€¥\-])|(?<=[A-Za-z][:.]))"
    r"(?:\(\+ ?[0-9]+\)|0[1-9][0-9]{1,3}/[0-9]+|(?:\+ ?)?\(?[0-9]+\)?)"
    r"(?:(?:[ .\-]{1,2}\(?|\(|(?<=\)))[0-9]+\)?)*"
    r"(?![\w/]|[.,:][0-9])"
)
_PHONE_CHUNK = re.compile(r"\S+")
_DASH_OR_DOT = re.compile(r"[0-9][.\-][0-9]")
_DATE_SHAPE = re.compile(
    r"\(?(?:[0-9]{4}[.\-][0-9]{1,2}[.\-][0-9]{1,2}|[0-9]{1,2}[.\-][0-9]{1,2}[.\-][0-9]{2,4})\)?"
)
_DOTTED_QUAD = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}")
_YEAR = re.compile(r"(?:19|20)[0-9]{2}")
# Words in any script ("móvil", "Rückruf"), with the dot of an abbreviation ("tel.",
# "cell.") dropped before lookup.
_WORD = re.compile(r"(?:[^\W\d_]|#)+\.?|[0-9][\w\-]*")

# Words right before a number that mark it as an identifier rather than a phone...
_ID_WORDS = frozenset(
    {
        "order", "orders", "invoice", "ticket", "case", "ref", "reference",
        "tracking", "confirmation", "account", "acct", "sku", "serial", "sn", "id", "po",
        "booking", "reservation", "transaction", "txn", "claim", "policy", "member",
        "item", "product", "model", "part", "shipment", "parcel", "waybill", "awb",
        "consignment", "build", "version", "firmware", "imei", "isbn", "ean", "upc",
        # The same nouns in the languages feedback arrives in.
        "rechnung", "rechnungsnummer", "bestellung", "bestellnummer", "kundennummer",
        "auftrag", "auftragsnummer", "sendung", "sendungsnummer", "facture", "commande",
        "pedido", "factura", "ordine", "fattura", "bestelling", "factuur", "fatura",
    }
)  # fmt: skip
# ...and words that say it is one. A phone word wins over an identifier word
# ("phone number" vs "order number"); a bare "number" only counts when neither is there.
_PHONE_WORDS = frozenset(
    {
        "call", "called", "calling", "phone", "phoned", "tel", "telephone",
        "mobile", "mob", "cell", "cellphone", "ph", "sms", "text", "texted",
        "whatsapp", "fax", "landline", "dial", "dialled", "dialed", "reach", "contact",
        "callback", "cb", "ring", "rang",
        # German, French, Spanish, Italian, Dutch and Portuguese.
        "telefon", "telefonnummer", "rufnummer", "handy", "mobil", "festnetz", "rückruf",
        "anrufen", "téléphone", "tél", "portable", "joindre", "appeler", "appelez",
        "rappeler", "rappelez", "teléfono", "telefono", "móvil", "movil", "celular",
        "llamar", "llámame", "tlf", "tfno", "cellulare", "chiamare", "chiamami",
        "telefoon", "mobiel", "bel", "bellen", "telefone", "ligar", "ligue",
    }
)  # fmt: skip
# A bare "number" (or its translation) says less: see _is_phone.
_NUMBER_WORDS = frozenset({"number", "nummer", "numéro", "numero", "número"})
# Unformatted ten-digit North American numbers: area code and exchange start with 2-9.
_NANP = re.compile(r"1?[2-9][0-9]{2}[2-9][0-9]{6}")
_CURRENCY_BEFORE = frozenset("$£€¥")


def _context_words(text: str, start: int) -> list[str]:
    """Up to three words just before ``start``, nearest first, stopping at a number.

    Three, so that "call me on 555-0132" and "order no. 12345678" are both understood.
    """
    window = text[max(0, start - 40) : start]
    words = [m.group(0).lower().removesuffix(".") for m in _WORD.finditer(window)][-3:]
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
    digits = NON_DIGITS.sub("", run)
    if len(digits) < MIN_DIGITS or run.count("(") != run.count(")"):
        return False

    if run.startswith(("+", "(+")):
        return 8 <= len(digits) <= 15
    if run.startswith("00") and len(digits) > 2 and digits[2] != "0":
        return 8 <= len(digits) - 2 <= 15

    if _DATE_SHAPE.fullmatch(run) or _DOTTED_QUAD.fullmatch(run):
        return False
    groups = DIGIT_GROUP.findall(run)
    if all(len(group) == 4 and _YEAR.fullmatch(group) for group in groups):
        return False
    if len(groups) == 2 and "." in run and len(groups[1]) <= 2:
        return False  # a decimal amount such as 12345.67

    if not _PHONE_WORDS.isdisjoint(context):
        return len(digits) <= 15
    if not _ID_WORDS.isdisjoint(context):
        return False
    if not _NUMBER_WORDS.isdisjoint(context):
        return len(digits) <= 15

    # Without context: a national number with its trunk "0" however it is grouped (the
    # area code after it never starts with 0; with a German mobile prefix such as 0151
    # it has up to 12 digits), the North American 10 digits (bracketed, grouped 3-3-4
    # or bare), or three or more groups joined by dashes or dots whose first group is
    # an area code or prefix of two or three digits. Plain space-separated groups
    # without a trunk "0" ("1234 5678 9012") are as likely to be a reference number,
    # and a dashed run led by four digits is how serials and years are written
    # ("8841-2290-7712", "2024-0042-17"), so those stay.
    if digits.startswith("0"):
        return digits[1:2] != "0" and 10 <= len(digits) <= 12
    if _NANP.fullmatch(digits):
        return (
            len(groups) == 1
            or run.startswith("(")
            or [len(group) for group in groups[-3:]] == [3, 3, 4]
        )
    return (
        len(groups) >= 3
        and len(groups[0]) <= 3
        and bool(_DASH_OR_DOT.search(run))
        and 9 <= len(digits) <= 12
    )


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
    if not _NUMBER_WORDS.isdisjoint(context):
        return _NUMBER_CONTEXT
    return _NO_CONTEXT


def _digit_bounds(
    lead: str, international: bool, zero_first: bool, trunk: bool, kind: int
) -> tuple[int, int]:
    """Digit counts for which _is_phone can accept a run; outside them it surely rejects.

    Follows _is_phone's rules in their order; (1, 0) means no run can pass. ``trunk``:
    the run starts with a trunk "0" and an area code (a zero not followed by another).
    """
    if lead == "+":
        return 8, 15
    if international:
        return 10, 17
    if kind in _WORDY:
        return MIN_DIGITS, 15
    if kind == _ID_CONTEXT:
        return 1, 0
    if zero_first:
        return (10, 12) if trunk else (1, 0)
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
        self.digits = NON_DIGITS.sub("", matched)
        # A candidate holds only digits, spaces and "+().-/", so a chunk is punctuated
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
                lengths = [len(group) for group in DIGIT_GROUP.findall(piece)]
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


def find_phones(text: str, found: list[PiiSpan]) -> list[PiiSpan]:
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
        if len(matched) < MIN_DIGITS or len(NON_DIGITS.sub("", matched)) < MIN_DIGITS:
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
    trunk = zero_first and digits[first + 1 : first + 2] != "0"
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
        and not international
        and not trunk
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
    ranges = [_digit_bounds(lead, international, zero_first, trunk, kind) for kind in kinds]
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
        kind_low, kind_high = _digit_bounds(lead, international, zero_first, trunk, kind)
        if not kind_low <= count <= kind_high:
            continue
        if chunks.paren_balance[j + 1] != chunks.paren_balance[i]:
            continue
        if (
            lead != "+"
            and not international
            and kind == _NO_CONTEXT
            and not trunk
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
