"""The editor's preview of an issue: Markdown in; phone, desktop and dark HTML, text, warnings out.

One function behind `newsletter preview` and the workspace editor. A Markdown mistake is not an
exception here but part of the answer (`error`, with its line), so a page can show it next to the
text and keep the last good preview. Renders are cached by content: the editor asks for the same
text several times (the JSON, then each frame).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from html import escape
from typing import Any, Literal

from mailer.issue import placeholders
from mailer.issue.branding import Branding
from mailer.issue.lint import GMAIL_CLIP_BYTES, sent_size
from mailer.issue.parse import IssueError, parse_issue_text
from mailer.issue.render import render_issue

Mode = Literal["phone", "desktop", "dark"]
MODES: tuple[Mode, ...] = ("phone", "desktop", "dark")
WIDTHS: dict[Mode, int] = {"phone": 375, "desktop": 600, "dark": 375}
SAMPLE_NAME = "Alex"
_LINE = re.compile(r"^(?P<source>.*?):(?P<line>\d+): (?P<message>.*)$", re.DOTALL)
# Many phone apps (Gmail, Outlook) darken an email by inverting its colours; images are
# turned back so photos look as they will. This shows the editor what that does to the issue.
_DARK_STYLE = (
    "<style>html{filter:invert(1) hue-rotate(180deg);background:#fff}"
    "img{filter:invert(1) hue-rotate(180deg)}</style>"
)


@dataclass(frozen=True, slots=True)
class Note:
    """A warning or an error, with the line of the Markdown it is about when there is one."""

    message: str
    line: int | None = None

    @classmethod
    def parse(cls, text: str, source: str) -> Note:
        match = _LINE.match(text)
        if match and match.group("source") == source:
            return cls(match.group("message"), int(match.group("line")))
        return cls(text)


@dataclass(frozen=True, slots=True)
class Reader:
    """Whose copy the preview shows: their name, and links that look like theirs."""

    name: str = SAMPLE_NAME
    base_url: str = "http://127.0.0.1:8000"
    key: str = "preview"

    def values(self) -> dict[str, str]:
        url = f"{self.base_url}/{{}}/{self.key}".format
        return {
            placeholders.UNSUBSCRIBE_URL: url("u"),
            placeholders.PREFERENCES_URL: url("p"),
            placeholders.FORWARD_URL: url("f"),
            placeholders.VIEW_URL: url("v"),
            placeholders.NAME: self.name,
        }


@dataclass(frozen=True)
class Preview:
    """What the editor sees; `error` set means the Markdown does not parse (nothing rendered)."""

    subject: str = ""
    preheader: str = ""
    html: str = ""
    text: str = ""
    warnings: list[Note] = field(default_factory=list)
    error: Note | None = None
    size_bytes: int = 0

    @property
    def clipped(self) -> bool:
        return self.size_bytes > GMAIL_CLIP_BYTES

    def summary(self) -> dict[str, Any]:
        """The JSON the pages' script reads (everything but the HTML, which goes to the frames)."""
        return {
            "ok": self.error is None,
            "subject": self.subject,
            "preheader": self.preheader,
            "text": self.text,
            "warnings": [_note(note) for note in self.warnings],
            "error": None if self.error is None else _note(self.error),
            "size_bytes": self.size_bytes,
            "clip_bytes": GMAIL_CLIP_BYTES,
            "clipped": self.clipped,
        }


def _note(note: Note) -> dict[str, Any]:
    return {"line": note.line, "message": note.message}


def preview(markdown: str, branding: Branding, reader: Reader, source: str = "issue.md") -> Preview:
    """The issue as `reader` will get it; parse problems come back in `error`, never raised."""
    return _preview(markdown, branding, reader, source)


@lru_cache(maxsize=32)
def _preview(markdown: str, branding: Branding, reader: Reader, source: str) -> Preview:
    try:
        rendered = render_issue(parse_issue_text(markdown, source=source), branding)
    except IssueError as exc:
        return Preview(error=Note.parse(str(exc), source))
    values = reader.values()
    return Preview(
        subject=rendered.subject,
        preheader=rendered.preheader,
        html=placeholders.fill(rendered.html, values),
        text=placeholders.fill(placeholders.without_banner(rendered.text), values),
        warnings=[Note.parse(w, source) for w in rendered.warnings],
        size_bytes=sent_size(rendered.html),
    )


def frame_document(result: Preview, mode: Mode) -> str:
    """The HTML for one preview frame; the dark view adds the inverting style."""
    if result.error is not None:
        line = f"line {result.error.line}: " if result.error.line else ""
        return f"<!doctype html><p>Cannot show the issue: {escape(line + result.error.message)}</p>"
    html = result.html
    if mode != "dark":
        return html
    head = re.search(r"</head\s*>", html, re.IGNORECASE)
    at = head.start() if head else 0
    return html[:at] + _DARK_STYLE + html[at:]


_WARM_UP = """---
subject: Warm-up
preheader: Rendered once when a process starts
---
Hello -subscriber_name-.

## Section

A [link](https://example.com/) and a table:

| a | b |
|---|---|
| 1 | 2 |
"""


def warm_up(branding: Branding) -> None:
    """Render a small issue once, so a process's first real preview does not also pay for
    loading MJML, compiling the templates and parsing the stylesheet (~100 ms otherwise)."""
    render_issue(parse_issue_text(_WARM_UP, source="warm-up"), branding)
