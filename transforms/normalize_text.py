"""Text folding shared by every step that reads feedback text.

Phone keyboards type U+2019 (and some U+2018 or U+02BC) for an apostrophe. Cause
patterns and VADER's negation rules ("isn't", "can't") are written with ', so the
text is folded once here rather than each reader special-casing the variants.
Each fold maps one character to one character, keeping offsets valid for slicing
evidence out of the original text.
"""

from __future__ import annotations

APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})


def fold_apostrophes(text: str) -> str:
    return text.translate(APOSTROPHES)
