"""An editor's second pair of eyes on the Markdown itself: mistakes that ship as literal text.

Each finding is one line, `FILE:LINE: what is wrong: how to fix it`. Unclosed links and links
that are not http(s) or mailto are errors (the send stops); the rest are warnings.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from urllib.parse import urlsplit

from mailer.issue import placeholders
from mailer.issue.markup import CALLOUT_NAMES
from mailer.issue.parse import Issue

LINK_SCHEMES = ("http", "https", "mailto")
_FENCE = re.compile(r"^\s*(```|~~~)")
_UNCLOSED = re.compile(r"\[[^\]\n]*\]\((?![^)\n]*\))")
_SPACED = re.compile(r"\[[^\]\n]+\]\s+\((?:https?://|mailto:)")
_SPACE_IN_URL = re.compile(r"\]\((?:https?://|mailto:)[^)\s]*\s+[^)]*\)")
_HEADING = re.compile(r"^(#{1,6})([^#\s].*)$")
_CONTAINER = re.compile(r"^:::\s*(\S+)")
_MERGE_TAG = re.compile(r"\{\{.*?\}\}|\*\|\w+\|\*|%%\w+%%|\{\$\w+\}")
_PLACEHOLDER_HOSTS = ("todo", "tbd", "xxx", "example.com", "example.org", "link", "url")


def _lines(issue: Issue) -> Iterator[tuple[int, str]]:
    """(file line, text) of every Markdown line outside code fences."""
    fenced = False
    for index, text in enumerate(issue.markdown.split("\n")):
        if _FENCE.match(text):
            fenced = not fenced
            continue
        if not fenced:
            yield issue.body_line + index, text


def errors(issue: Issue) -> list[str]:
    """Mistakes that would send a broken email: unclosed links, links that cannot work."""
    found = [
        f"{issue.source}:{line}: unclosed link {match.group(0)[:60]!r}: "
        "close it with ')' after the address"
        for line, text in _lines(issue)
        for match in _UNCLOSED.finditer(text)
        if not _SPACE_IN_URL.search(text)  # that case has its own, better message
    ]
    for line, token in issue.inline_tokens():
        href = str(token.attrGet("href") or "") if token.type == "link_open" else None
        if href in placeholders.ALL:
            continue  # an editor's [forward it](@forward): the reader's own link
        if href is not None and urlsplit(href).scheme.lower() not in LINK_SCHEMES:
            found.append(
                f"{issue.source}:{line}: link {href!r} is not http(s) or mailto: it will not "
                "work in an email; write the full address, https://..."
            )
    return found


def warnings(issue: Issue) -> list[str]:
    """Markdown that renders as literal text, placeholders and tags of other tools."""
    found: list[str] = []
    for line, text in _lines(issue):
        found.extend(f"{issue.source}:{line}: {message}" for message in _line_warnings(text))
    found.extend(_placeholder_links(issue))
    found.extend(
        f"{issue.source}:{line}: {kind} {title!r} has nothing under it and is left out of the "
        "email: add content or remove the heading (and any intro line that announces it)"
        for kind, title, line in issue.dropped
    )
    return found


def _line_warnings(text: str) -> Iterator[str]:
    if _SPACED.search(text):
        yield "a space between ']' and '(' shows the link as text: write [title](https://...)"
    if _SPACE_IN_URL.search(text):
        yield "a space inside a link address breaks the link: remove it (or write %20)"
    heading = _HEADING.match(text)
    if heading:
        marks, rest = heading.groups()
        yield f"{marks}{rest[:30]!s} is not a heading: write {marks} {rest[:30]} (with a space)"
    container = _CONTAINER.match(text)
    if container and container.group(1) not in CALLOUT_NAMES:
        name = container.group(1)
        yield f"unknown block '::: {name}' shows as text: {_closest(name)}"
    for tag in _MERGE_TAG.findall(text):
        yield (
            f"{tag} is a merge tag of another tool and is sent as it is: remove it "
            "(the reader's own links are added by the newsletter)"
        )


def _closest(name: str) -> str:
    close = difflib.get_close_matches(name, CALLOUT_NAMES, n=1)
    known = ", ".join(f"'::: {known}'" for known in CALLOUT_NAMES)
    return f"did you mean '::: {close[0]}'?" if close else f"the known blocks are {known}"


def _placeholder_links(issue: Issue) -> Iterator[str]:
    for line, token in issue.inline_tokens():
        if token.type != "link_open":
            continue
        href = str(token.attrGet("href") or "")
        host = (urlsplit(href).hostname or "").lower()
        if host in _PLACEHOLDER_HOSTS or "todo" in href.lower():
            yield (
                f"{issue.source}:{line}: link {href!r} looks like a placeholder: "
                "put the real address in"
            )
