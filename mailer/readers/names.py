"""A reader's name made safe to show in a From name: visible characters only, and short.

Invisible, bidi and control characters and blank-looking "filler" letters are removed and every
kind of space becomes one plain space, so a name cannot pad itself out to push what follows it
(" via <brand>") out of view, nor reorder it on screen.
"""

from __future__ import annotations

import unicodedata

MAX_NAME_CHARS = 64
# Letters and symbols that draw nothing although their category says they are visible.
_FILLERS = frozenset("\u115f\u1160\u17b4\u17b5\u180e\u2800\u3164\uffa0\u034f")
# Formats, controls, private use, surrogates, unassigned, line and paragraph separators.
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"})
# Characters a mail header name must not carry (SendGrid refuses , and ;).
_HEADER_UNSAFE = frozenset(',;"<>\\')


def visible_name(text: str, limit: int = MAX_NAME_CHARS) -> str:
    """The visible part of `text`, whitespace collapsed, cut to `limit` characters."""
    kept: list[str] = []
    for char in unicodedata.normalize("NFKC", text):
        category = unicodedata.category(char)
        if char in _FILLERS or category in _DROPPED_CATEGORIES:
            continue
        kept.append(" " if category == "Zs" or char in _HEADER_UNSAFE or char.isspace() else char)
    return " ".join("".join(kept).split())[:limit].strip()
