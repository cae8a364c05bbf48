"""Warnings about a rendered issue that would hurt delivery or compliance (not errors)."""

from __future__ import annotations

import math
import re
from urllib.parse import urlsplit

from mailer.issue import lint_markdown, placeholders
from mailer.issue.branding import Branding
from mailer.issue.parse import Issue

GMAIL_CLIP_BYTES = 102 * 1024
# A filled-in signed link is about this long; the size check counts the links as sent.
FILLED_LINK_BYTES = 120
# SendGrid's click tracking rewrites every http(s) link in the HTML into
# https://u1234567.ct.sendgrid.net/ls/click?upn=... where `upn` is base64 of the original URL
# plus tracking data; observed rewrites run 350-600 characters. Estimated generously:
CLICK_PREFIX_BYTES = 60
CLICK_PAYLOAD_BYTES = 250
_TRACKED_HREF = re.compile(r'href="(https?://[^"]*|' + "|".join(placeholders.ALL) + ')"')


def check(issue: Issue, html: str, branding: Branding) -> list[str]:
    """Every warning for this issue, each one line, file:line first where there is one."""
    return [
        *_size(html),
        *_images_without_alt(issue),
        *lint_markdown.warnings(issue),
        *_images_without_width(issue),
        *_postal_address(branding),
        *_preheader(issue),
    ]


def errors(issue: Issue) -> list[str]:
    """What stops a send (the email would be broken), each one line with file:line."""
    return lint_markdown.errors(issue)


def sent_size(html: str) -> int:
    """Bytes of the HTML as it arrives: recipient links filled in, every link click-tracked."""
    size = len(html.encode("utf-8"))
    tracked_tags = 0
    for match in _TRACKED_HREF.finditer(html):
        url = match.group(1)
        is_tag = url in placeholders.ALL
        tracked_tags += is_tag
        arrived = FILLED_LINK_BYTES if is_tag else len(url.encode("utf-8"))
        size += tracked_link_bytes(arrived) - len(url)
    other_tags = sum(html.count(tag) for tag in placeholders.ALL) - tracked_tags
    return size + other_tags * FILLED_LINK_BYTES


def tracked_link_bytes(url_bytes: int) -> int:
    """Estimated length of a link of `url_bytes` once SendGrid's click tracking rewrote it."""
    return CLICK_PREFIX_BYTES + math.ceil((url_bytes + CLICK_PAYLOAD_BYTES) * 4 / 3)


def _size(html: str) -> list[str]:
    size = sent_size(html)
    if size <= GMAIL_CLIP_BYTES:
        return []
    return [
        f"HTML is about {size / 1024:.1f} KB as it arrives (recipient links filled in, links "
        "rewritten by click tracking), over 102 KB: Gmail clips the message and hides its footer "
        "(and unsubscribe link); shorten the issue"
    ]


def _images_without_alt(issue: Issue) -> list[str]:
    return [
        f"{issue.source}:{line}: image without alt text ({token.attrGet('src')}): "
        "write ![what it shows](url)"
        for line, token in issue.inline_tokens()
        if token.type == "image" and not token.content.strip()
    ]


def _images_without_width(issue: Issue) -> list[str]:
    warnings = []
    for line, token in issue.inline_tokens():
        if token.type != "image":
            continue
        src = str(token.attrGet("src") or "")
        if urlsplit(src).scheme.lower() not in ("http", "https", "data"):
            warnings.append(
                f"{issue.source}:{line}: image {src!r} is not an https URL: "
                "it will not load in an inbox"
            )
        if token.attrGet("width") is None:
            warnings.append(
                f"{issue.source}:{line}: image without a width ({src}): Outlook draws it at "
                "its full size; write ![alt](url){width=600}"
            )
    return warnings


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
