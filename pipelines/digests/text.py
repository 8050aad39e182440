"""Text that came from customers, made safe to show: no control or bidi characters.

The department macros already strip them; the renderers strip them again, because a
digest is read in mail clients and chat tools that honour a right-to-left override
(U+202E) and would show a verbatim reversed, or hide part of it.
"""

from __future__ import annotations

import unicodedata

# Kept although they are controls: line breaks and tabs are folded to spaces instead.
_SPACES = {"\n", "\r", "\t"}


def clean_text(text: object, limit: int | None = None) -> str:
    """``text`` without control (Cc) or format (Cf: bidi, zero-width) characters,
    whitespace folded to single spaces, cut to ``limit`` characters with an ellipsis."""
    if text is None:
        return ""
    kept = []
    for char in str(text):
        if char in _SPACES:
            kept.append(" ")
        elif unicodedata.category(char) not in ("Cc", "Cf", "Cs", "Co"):
            kept.append(char)
    folded = " ".join("".join(kept).split())
    if limit is not None and len(folded) > limit:
        return folded[: max(0, limit - 1)].rstrip() + "…"
    return folded
