"""Which text reads as a number: shared by the CSV importer and the segment language."""

from __future__ import annotations

import math
import re

# Leading zeros, '+' and spaces keep a value text, so zip codes and phone numbers stay as typed.
_EXACT = 2**53
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")


def parse_number(text: str) -> int | float | None:
    """The int or float `text` spells exactly, or None when it is not a plain number."""
    if not _NUMBER.fullmatch(text):
        return None
    if "." not in text and "e" not in text.lower():
        whole = int(text)
        # Longer integers (account numbers, say) stay text: JSON readers turn them into floats.
        return whole if abs(whole) <= _EXACT else None
    number = float(text)
    return number if math.isfinite(number) else None
