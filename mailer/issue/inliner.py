"""Premailer with its stylesheet work kept between renders.

Every issue carries the same stylesheets (the template's), yet Premailer parses each `<style>`
block with cssutils and writes its media queries back out on every render: half of a preview's
time as the editor types. Both depend only on the CSS text (and the options, fixed here), so
they are computed once per stylesheet and shared; what is shared is never mutated afterwards.
"""

from __future__ import annotations

import logging
import threading
from functools import lru_cache
from typing import Any

from premailer import Premailer

_OPTIONS: dict[str, Any] = {
    "strip_important": False,  # the media queries need !important to beat inline styles
    "keep_style_tags": False,
    "allow_network": False,
    "disable_validation": True,
    # 'height="auto"' on images is invalid HTML; a CSS width of 100% must not overwrite a
    # pixel width="180" (Outlook draws images at their width attribute).
    "disable_basic_attributes": ["height", "width"],
    "cssutils_logging_level": logging.CRITICAL,
}
_PARSING = threading.Lock()  # cssutils keeps global state while it parses


class _Leftover(str):
    """The CSS that stays in a `<style>` block (media queries), already written out."""

    __slots__ = ()


@lru_cache(maxsize=64)
def _style_rules(css_body: str, index: int) -> tuple[tuple[Any, ...], tuple[_Leftover, ...]]:
    with _PARSING:
        plain = Premailer("", **_OPTIONS)
        rules, leftover = Premailer._parse_style_rules(plain, css_body, index)
        css = Premailer._css_rules_to_string(plain, leftover) if leftover else ""
    return tuple(rules), (_Leftover(css),) if leftover else ()


class CachedPremailer(Premailer):
    """Premailer with the options above and the stylesheet cache."""

    def __init__(self, html: str) -> None:
        super().__init__(html, **_OPTIONS)

    def _parse_style_rules(self, css_body: str, ruleset_index: int) -> tuple[list[Any], Any]:
        rules, leftover = _style_rules(css_body or "", ruleset_index)
        return list(rules), list(leftover)

    def _css_rules_to_string(self, rules: list[Any]) -> str:
        if all(isinstance(rule, _Leftover) for rule in rules):
            return "\n".join(rules)
        return str(super()._css_rules_to_string(rules))
