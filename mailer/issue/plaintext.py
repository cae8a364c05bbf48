"""The text/plain part of an issue, made from the same parsed structure as the HTML.

Links are written out after their text, tables become aligned columns (with the links of a
table as numbered notes below it) or, when too wide, one line per row.
"""

from __future__ import annotations

import textwrap
import unicodedata
from collections.abc import Sequence

from markdown_it.token import Token
from markdown_it.tree import SyntaxTreeNode

from mailer.issue.markup import EMPTY_CELL
from mailer.issue.wrapping import WIDTH, wrap

_SEPARATOR = "  "


def blocks_text(tokens: Sequence[Token], width: int = WIDTH) -> str:
    """Block tokens as plain text, blocks separated by a blank line."""
    if not tokens:
        return ""
    root = SyntaxTreeNode(list(tokens))
    return "\n\n".join(text for node in root.children if (text := _block(node, width)))


def heading_text(inline: Token, underline: str) -> str:
    """A heading as a setext-style title: its text, then a line of `underline` as wide."""
    title = _inline(SyntaxTreeNode([inline]).children[0]).strip() or inline.content
    return underlined(title, underline)


def underlined(title: str, underline: str) -> str:
    return f"{title}\n{underline * max(3, display_width(title))}"


def display_width(text: str) -> int:
    """Columns a monospace terminal uses for `text` (emoji and CJK take two)."""
    # U+FE0F turns the character before it into a two-column emoji (⚛️, ☁️).
    return sum(
        1
        if char == "\ufe0f"
        else 0
        if unicodedata.combining(char)
        else 2
        if unicodedata.east_asian_width(char) in "WF"
        else 1
        for char in text
    )


def _block(node: SyntaxTreeNode, width: int) -> str:
    kind = node.type
    if kind == "paragraph":
        return wrap(_inline(node.children[0] if node.children else None), width)
    if kind == "heading":
        return underlined(_inline(node.children[0] if node.children else None), "-")
    if kind in ("bullet_list", "ordered_list"):
        return _list(node, width)
    if kind == "blockquote":
        inner = "\n\n".join(_block(child, width - 2) for child in node.children)
        return "\n".join(f"> {line}".rstrip() for line in inner.split("\n"))
    if kind == "table":
        return _table(node, width)
    if kind == "hr":
        return "* * *"
    if kind in ("fence", "code_block"):
        return textwrap.indent(node.content.rstrip("\n"), "    ")
    if kind.startswith("container_"):
        inner = "\n\n".join(_block(child, width) for child in node.children)
        rule = "-" * width
        return f"{rule}\n{inner}\n{rule}"
    return "\n\n".join(_block(child, width) for child in node.children)


def _list(node: SyntaxTreeNode, width: int) -> str:
    start = int(str(node.attrs.get("start", 1)))
    items: list[str] = []
    for number, item in enumerate(node.children, start=start):
        marker = f"{number}. " if node.type == "ordered_list" else "- "
        indent = " " * len(marker)
        inner = "\n".join(_block(child, width - len(marker)) for child in item.children)
        lines = inner.split("\n") or [""]
        items.append(
            "\n".join([marker + lines[0], *((indent + line).rstrip() for line in lines[1:])])
        )
    return "\n".join(items)


def _inline(node: SyntaxTreeNode | None, notes: list[str] | None = None) -> str:
    """Inline content as text; links become `text (url)` or, in tables, `text [n]`."""
    if node is None:
        return ""
    parts: list[str] = []
    for child in node.children:
        kind = child.type
        if kind in ("text", "code_inline"):
            parts.append(child.content)
        elif kind == "softbreak":
            parts.append(" ")
        elif kind == "hardbreak":
            parts.append("\n")
        elif kind == "link":
            parts.append(_link(child, notes))
        elif kind == "image":
            alt = _inline(child, notes)
            parts.append(f"[{alt}]" if alt else "")
        else:  # emphasis, strong, strikethrough: keep the words, drop the markup
            parts.append(_inline(child, notes))
    return "".join(parts)


def _link(node: SyntaxTreeNode, notes: list[str] | None) -> str:
    href = str(node.attrs.get("href", ""))
    label = _inline(node, notes).strip()
    if notes is not None:
        notes.append(href)
        return f"{label} [{len(notes)}]"
    if not label or label == href:
        return href
    return f"{label} ({href})"


def _table(node: SyntaxTreeNode, width: int) -> str:
    notes: list[str] = []
    rows: list[list[str]] = []
    right: list[bool] = []
    for row in _rows(node):
        cells = [(_inline(cell.children[0] if cell.children else None, notes)) for cell in row]
        rows.append([cell.strip() or EMPTY_CELL for cell in cells])
        right = right or ["right" in str(cell.attrs.get("style", "")) for cell in row]
    columns = max((len(row) for row in rows), default=0)
    widths = [max(display_width(row[i]) for row in rows if i < len(row)) for i in range(columns)]
    if sum(widths) + len(_SEPARATOR) * (columns - 1) <= width:
        body = _columns(rows, widths, right)
    else:
        body = _records(rows, width)
    note_lines = [f"[{number}] {href}" for number, href in enumerate(notes, start=1)]
    return "\n".join([body, *(["", *note_lines] if note_lines else [])])


def _rows(table: SyntaxTreeNode) -> list[list[SyntaxTreeNode]]:
    return [
        list(row.children)
        for part in table.children  # thead, tbody
        for row in part.children
    ]


def _columns(rows: list[list[str]], widths: list[int], right: list[bool]) -> str:
    def line(cells: list[str]) -> str:
        padded = []
        for index, cell in enumerate(cells):
            gap = " " * (widths[index] - display_width(cell))
            aligned_right = index < len(right) and right[index]
            padded.append(gap + cell if aligned_right else cell + gap)
        return _SEPARATOR.join(padded).rstrip()

    rule = _SEPARATOR.join("-" * w for w in widths)
    return "\n".join([line(rows[0]), rule, *(line(row) for row in rows[1:])])


def _records(rows: list[list[str]], width: int) -> str:
    header, body = rows[0], rows[1:]
    records = []
    for row in body:
        fields = [
            f"{name}: {value}"
            for name, value in zip(header, row, strict=False)
            if value != EMPTY_CELL
        ]
        records.append(wrap("; ".join(fields), width, "- ", "  "))
    return "\n".join(records)
