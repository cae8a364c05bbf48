"""The Markdown dialect of issues (CommonMark, tables, `::: promo` boxes) and its email HTML."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from typing import Any, cast

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from mdit_py_plugins.attrs import attrs_plugin
from mdit_py_plugins.container import container_plugin

from mailer.issue import placeholders

# `::: promo` ... `:::` marks a highlighted box (an event, a sponsor, a call to action).
CALLOUT_NAMES = ("promo",)
EMPTY_CELL = "–"  # an empty table cell reads as "not disclosed", not as a layout glitch
# Link targets an editor writes for a reader's own pages, e.g. [forward it](@forward).
READER_LINKS = {"@forward": placeholders.FORWARD_URL, "@view": placeholders.VIEW_URL}
READER_LINK_CLASS = "reader-link"  # a friend's copy keeps such a link's words, not the link
_HYPHENATED = re.compile(r"\S*-\S*")


@cache
def markdown() -> MarkdownIt:
    """The parser, built once: raw HTML is off, so an issue cannot break the email's markup."""
    md = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
    for name in CALLOUT_NAMES:
        container_plugin(md, name, render=_callout)
    attrs_plugin(md, after=("image",), allowed=("width",))  # ![alt](url){width=600}
    md.add_render_rule("table_open", _table_open)
    md.add_render_rule("table_close", lambda *_: "</table></div>\n")
    md.add_render_rule("td_open", _cell_open)
    md.add_render_rule("th_open", _cell_open)
    md.add_render_rule("td_close", _cell_close)
    md.add_render_rule("th_close", _cell_close)
    md.add_render_rule("text", _text)
    md.add_render_rule("image", _image)
    return md


def parse_markdown(text: str) -> list[Token]:
    tokens = markdown().parse(text)
    for token in tokens:
        for child in token.children or ():
            href = child.attrGet("href") if child.type == "link_open" else None
            if href in READER_LINKS:
                child.attrSet("href", READER_LINKS[str(href)])
                child.attrSet("class", READER_LINK_CLASS)
    return tokens


def to_html(tokens: Sequence[Token]) -> str:
    """Email-ready HTML for a run of block tokens (classes are styled by the template's CSS)."""
    md = markdown()
    return md.renderer.render(list(tokens), md.options, {})


def inline_html(token: Token) -> str:
    """HTML of one inline token, e.g. a heading's text with its emphasis, code and emoji."""
    md = markdown()
    renderer = cast(RendererHTML, md.renderer)
    return renderer.renderInline(token.children or [], md.options, {})


def _callout(renderer: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    # A presentation table, not a div: Outlook's Word engine ignores padding on divs.
    if tokens[idx].nesting == 1:
        return (
            '<table role="presentation" class="callout" width="100%" cellpadding="0"'
            ' cellspacing="0"><tr><td class="callout-cell">\n'
        )
    return "</td></tr></table>\n"


def _table_open(renderer: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    # The wrapper scrolls a table too wide for a phone instead of the whole email.
    return (
        '<div class="table-wrap"><table class="data" width="100%" cellpadding="0"'
        ' cellspacing="0">\n'
    )


def _cell_open(renderer: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    env["in_cell"] = True
    token, content = tokens[idx].copy(), tokens[idx + 1]
    if token.tag == "th":
        token.attrSet("scope", "col")
    if content.type == "inline" and not content.content.strip():
        # The dash shows "none" on screen; a screen reader hears an empty cell, not "en dash".
        dash = f'<span aria-hidden="true">{EMPTY_CELL}</span>'
        return f'<{token.tag} class="empty"{renderer.renderAttrs(token)}>{dash}'
    return f"<{token.tag}{renderer.renderAttrs(token)}>"


def _cell_close(renderer: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    env["in_cell"] = False
    return f"</{tokens[idx].tag}>\n"


def _text(renderer: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    text = escapeHtml(tokens[idx].content)
    if env.get("in_cell") and "-" in text:
        # A table cell never breaks "Pre-Seed" at its hyphen either.
        return _HYPHENATED.sub(r'<span style="white-space:nowrap">\g<0></span>', text)
    return text


def _image(renderer: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    image = tokens[idx].copy()
    image.attrSet("class", "content-image")
    width = image.attrGet("width")
    if width is not None:
        # Outlook draws the `width`; other clients also keep max-width:100% on a phone.
        image.attrSet("style", f"width:{width}px;max-width:100%;height:auto")
    return str(renderer.image([image], 0, options, env))
