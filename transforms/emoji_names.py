"""Emoji as words: VADER scores words, and customers write feelings as pictographs.

NLTK's VADER knows ASCII emoticons (":)", ":(") but no emoji, so "\U0001f621" or
"\U0001f44e" score nothing. The vaderSentiment package (already pinned for its
lexicon) ships a table of emoji and their Unicode names; reading an emoji as its
name ("enraged face", "thumbs down") lets the lexicon score the words of the name,
the way the original VADER implementation does.
"""

from __future__ import annotations

import functools
import importlib.resources

__all__ = ["emoji_table", "name_emoji"]

# Invisible joiners and presentation selectors inside emoji sequences.
_MODIFIERS = frozenset(["\ufe0f", "\ufe0e", "\u200d"]) | frozenset(
    chr(code)
    for code in range(0x1F3FB, 0x1F400)  # skin tones
)


@functools.cache
def emoji_table() -> dict[str, str]:
    """Single emoji character -> its lower-case name, from vaderSentiment's table."""
    text = (importlib.resources.files("vaderSentiment") / "emoji_utf8_lexicon.txt").read_text(
        encoding="utf-8"
    )
    table: dict[str, str] = {}
    for line in text.splitlines():
        emoji, _, name = line.partition("\t")
        if len(emoji) == 1 and name:
            table[emoji] = name.strip().lower()
    return table


def name_emoji(text: str) -> str:
    """``text`` with every known emoji replaced by its name between spaces; modifiers
    (skin tones, joiners) dropped. ASCII text is returned as it is."""
    if text.isascii():
        return text
    table = emoji_table()
    parts: list[str] = []
    for char in text:
        if char in _MODIFIERS:
            continue
        name = table.get(char)
        parts.append(f" {name} " if name is not None else char)
    return "".join(parts)
