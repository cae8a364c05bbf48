"""Warnings about a rendered issue that would hurt delivery or compliance (not errors)."""

from __future__ import annotations

from mailer.issue import lint_markdown, placeholders
from mailer.issue.branding import Branding
from mailer.issue.parse import Issue

GMAIL_CLIP_BYTES = 102 * 1024
# A filled-in signed link is about this long; the size check counts the links as sent.
FILLED_LINK_BYTES = 120


def check(issue: Issue, html: str, branding: Branding) -> list[str]:
    """Every warning for this issue, each one line, file:line first where there is one."""
    return [
        *_size(html),
        *_images_without_alt(issue),
        *lint_markdown.warnings(issue),
        *_postal_address(branding),
        *_preheader(issue),
    ]


def errors(issue: Issue) -> list[str]:
    """What stops a send (the email would be broken), each one line with file:line."""
    return lint_markdown.errors(issue)


def sent_size(html: str) -> int:
    """Bytes of the HTML once the per-recipient links are filled in."""
    tags = sum(html.count(tag) for tag in placeholders.ALL)
    return len(html.encode("utf-8")) + tags * FILLED_LINK_BYTES


def _size(html: str) -> list[str]:
    size = sent_size(html)
    if size <= GMAIL_CLIP_BYTES:
        return []
    return [
        f"HTML is {size / 1024:.1f} KB with recipient links filled in, over 102 KB: "
        "Gmail clips the message and hides its footer (and unsubscribe link); shorten the issue"
    ]


def _images_without_alt(issue: Issue) -> list[str]:
    return [
        f"{issue.source}:{line}: image without alt text ({token.attrGet('src')}): "
        "write ![what it shows](url)"
        for line, token in issue.inline_tokens()
        if token.type == "image" and not token.content.strip()
    ]


def _postal_address(branding: Branding) -> list[str]:
    if not branding.postal_address_is_placeholder:
        return []
    return ["POSTAL_ADDRESS is not set: the footer shows a placeholder (the law requires one)"]


def _preheader(issue: Issue) -> list[str]:
    if issue.preheader:
        return []
    return [
        f"{issue.source}:1: no preheader: inboxes will show the first words of the email; "
        "add 'preheader: ...' to the front matter"
    ]
