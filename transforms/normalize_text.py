"""Text folding shared by every step that reads feedback text.

Phone keyboards type U+2019 (and some U+2018 or U+02BC) for an apostrophe. Cause
patterns and VADER's negation rules ("isn't", "can't") are written with ', so the
text is folded once here rather than each reader special-casing the variants.
Each fold maps one character to one character, keeping offsets valid for slicing
evidence out of the original text.

Invisible format characters are a different problem: they are removed (not folded)
before the text is redacted and stored. Bidirectional controls reorder what a reader
sees (U+202E makes "gnp.exe" display as "exe.png"), so a comment could show a
department something other than what it says; zero-width characters are invisible
but still split tokens, so "jane" U+200B "@example.com" or "07700" U+200B "900123"
would slip past the PII finders. They are removed rather than made visible because
the stored text is read and searched by people: removal keeps what the customer
wrote and nothing that changes how it shows. What is lost: emoji joined by U+200D
(a family, a profession) show as their separate emoji, and in mixed-direction text
punctuation next to a change of direction may sit on the other side; right-to-left
letters themselves are kept and still display right to left.
"""

from __future__ import annotations

APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})

# Bidirectional controls: embeddings and overrides (U+202A-U+202E), isolates
# (U+2066-U+2069), the marks LRM, RLM and ALM (U+200E, U+200F, U+061C).
BIDI_CONTROLS = frozenset(
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
)
# Characters that take no space: zero width space, non-joiner and joiner, word joiner,
# the byte order mark used as a zero-width no-break space, the invisible operators
# (U+2061-U+2064), the Mongolian vowel separator, and the soft hyphen (shown only
# where a line happens to break at it).
ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff\u2061\u2062\u2063\u2064\u180e\u00ad")
_INVISIBLE = str.maketrans(dict.fromkeys(BIDI_CONTROLS | ZERO_WIDTH))


def fold_apostrophes(text: str) -> str:
    return text.translate(APOSTROPHES)


def strip_invisible_controls(text: str) -> str:
    """``text`` without bidirectional controls and zero-width characters.

    Unlike fold_apostrophes this shortens the text, so offsets into the result refer to
    the result: apply it before anything records offsets (tag_feedback does it first).
    """
    return text if text.isascii() else text.translate(_INVISIBLE)
