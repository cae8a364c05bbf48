"""Line wrapping for text parts, apart from the Markdown machinery: the send and forward paths
need it, and a worker should not load markdown-it for it."""

from __future__ import annotations

import textwrap

WIDTH = 72


def wrap(text: str, width: int, first: str = "", rest: str = "") -> str:
    """Wrap each line of `text`; long words (links) are never broken."""
    lines: list[str] = []
    for index, line in enumerate(text.split("\n")):
        lines.append(
            textwrap.fill(
                line,
                width=width,
                initial_indent=first if index == 0 else rest,
                subsequent_indent=rest,
                break_long_words=False,
                break_on_hyphens=False,
            )
            or (first if index == 0 else rest).rstrip()
        )
    return "\n".join(lines)
