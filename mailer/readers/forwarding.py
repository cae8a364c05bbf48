"""Forward to a friend, the pure part: friend addresses, limits, and the friend's copy.

The friend's copy is the frozen issue and nothing else (never an open relay): the forwarder's
personal links are taken out, and a short banner naming the forwarder, their note as plain
text, and a subscribe link carrying the referral go where the renderer put the banner marker.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email

from mailer.issue import placeholders
from mailer.issue.wrapping import WIDTH, wrap

MAX_FRIENDS_PER_SUBMIT = 5
MAX_FRIENDS_PER_ISSUE = 20  # per reader and issue
MAX_FRIENDS_PER_DAY = 100  # per reader, any issue, rolling 24 h
MAX_NOTE_CHARS = 140
_MAX_FIELD_CHARS = 2000

_SEPARATORS = re.compile(r"[\s,;]+")
# Links a friend must not get: they act on the forwarder's subscription or identity.
_PERSONAL = (
    placeholders.UNSUBSCRIBE_URL,
    placeholders.PREFERENCES_URL,
    placeholders.FORWARD_URL,
)
_PERSONAL_ANCHOR = re.compile(
    r"<a\b[^>]*?href=[\"']?(?:"
    + "|".join(re.escape(tag) for tag in _PERSONAL)
    + r")[\"']?[^>]*>.*?</a>",
    re.IGNORECASE | re.DOTALL,
)
# An editor's link to the reader's own page inside the text ([forward it](@forward)): the
# friend's copy keeps its words. The same link written out in the text part: "words (TAG)".
_READER_LINK = re.compile(
    r'<a\b(?=[^>]*class="reader-link")(?=[^>]*href="(?:'
    + "|".join(re.escape(tag) for tag in _PERSONAL)
    + r')")[^>]*>(.*?)</a>',
    re.IGNORECASE | re.DOTALL,
)
_TEXT_READER_LINK = re.compile(r"\s*\((?:" + "|".join(re.escape(t) for t in _PERSONAL) + r")\)")
_SUBSCRIBER_ONLY = re.compile(
    re.escape(placeholders.SUBSCRIBER_ONLY[0]) + ".*?" + re.escape(placeholders.SUBSCRIBER_ONLY[1]),
    re.DOTALL,
)
_BODY_OPEN = re.compile(r"<body\b[^>]*>", re.IGNORECASE)


class ForwardError(ValueError):
    """The form was filled in wrongly; the message is shown to the reader as is."""


@dataclass(frozen=True, slots=True)
class Banner:
    """What the friend's copy says about who sent it."""

    forwarder: str
    note: str
    subscribe_url: str
    brand_name: str
    footer_text: str = ""  # "you receive this because you subscribed": left out of this copy


def parse_friends(field: str) -> list[str]:
    """Addresses separated by commas, spaces or new lines; duplicates kept once, in order."""
    if len(field) > _MAX_FIELD_CHARS:
        raise ForwardError("That is too much text for a list of addresses.")
    found: dict[str, str] = {}
    for raw in _SEPARATORS.split(field.strip()):
        if not raw:
            continue
        try:
            address = validate_email(raw, check_deliverability=False).normalized
        except EmailNotValidError as exc:
            raise ForwardError(f"“{raw[:80]}” is not an email address: {exc}") from exc
        found.setdefault(address.lower(), address)
    if not found:
        raise ForwardError("Enter at least one email address.")
    if len(found) > MAX_FRIENDS_PER_SUBMIT:
        raise ForwardError(f"You can forward to at most {MAX_FRIENDS_PER_SUBMIT} people at once.")
    return list(found.values())


def clean_note(note: str) -> str:
    """The optional personal note: plain text, one paragraph, at most 140 characters."""
    note = " ".join(note.split())
    if len(note) > MAX_NOTE_CHARS:
        raise ForwardError(f"The note can be at most {MAX_NOTE_CHARS} characters long.")
    return note


def check_quota(requested: int, sent_for_issue: int, sent_today: int) -> None:
    """Refuse a submit that would pass the per-issue or per-day limits of one reader."""
    if sent_for_issue + requested > MAX_FRIENDS_PER_ISSUE:
        left = max(0, MAX_FRIENDS_PER_ISSUE - sent_for_issue)
        raise ForwardError(
            f"You can forward this issue to {MAX_FRIENDS_PER_ISSUE} people in all; {left} left."
        )
    if sent_today + requested > MAX_FRIENDS_PER_DAY:
        raise ForwardError(
            f"You can forward to {MAX_FRIENDS_PER_DAY} people a day; please try again tomorrow."
        )


def impersonal_html(document: str, view_url: str = "") -> str:
    """The issue without anyone's unsubscribe, preference or forward links.

    The footer's "you receive this because you subscribed" goes too: this copy is for a friend
    or the public archive, whose readers did not subscribe.
    """
    unwrapped = _READER_LINK.sub(r"\1", _SUBSCRIBER_ONLY.sub("", document))
    without_links = _PERSONAL_ANCHOR.sub("", unwrapped)
    return placeholders.fill(without_links, {placeholders.VIEW_URL: view_url})


def impersonal_text(text: str, view_url: str = "", footer_text: str = "") -> str:
    """The text part without the lines that carry someone's personal links (nor `footer_text`)."""
    text = _TEXT_READER_LINK.sub("", text)
    if footer_text:
        text = text.replace(wrap(footer_text, WIDTH) + "\n", "")
    kept = [line for line in text.splitlines() if not any(tag in line for tag in _PERSONAL)]
    return placeholders.fill("\n".join(kept), {placeholders.VIEW_URL: view_url})


def friend_html(document: str, banner: Banner, view_url: str) -> str:
    return _insert(
        impersonal_html(document, view_url), placeholders.BANNER_MARKER, banner_html(banner)
    )


def friend_text(text: str, banner: Banner, view_url: str) -> str:
    impersonal = impersonal_text(text, view_url, banner.footer_text)
    return _insert(impersonal, placeholders.TEXT_BANNER_MARKER, banner_text(banner))


def banner_html(banner: Banner) -> str:
    who = html.escape(banner.forwarder)
    note = (
        f'<p style="margin:8px 0 0;font-style:italic">“{html.escape(banner.note)}”</p>'
        if banner.note
        else ""
    )
    url = html.escape(banner.subscribe_url, quote=True)
    brand = html.escape(banner.brand_name)
    return (
        '<div style="max-width:600px;margin:0 auto 16px;padding:16px;border:1px solid #d0d5dd;'
        "border-radius:8px;background:#ffffff;color:#1d1d1f;font-family:Arial,sans-serif;"
        'font-size:15px;line-height:1.5">'
        f'<p style="margin:0"><strong>{who}</strong> sent you this issue of {brand}.</p>'
        f"{note}"
        '<p style="margin:8px 0 0">You are not subscribed and will get nothing more from us. '
        f'<a href="{url}" style="color:#1f4fd1">Subscribe to {brand}</a> if you like it.</p>'
        "</div>"
    )


def banner_text(banner: Banner) -> str:
    lines = [f"{banner.forwarder} sent you this issue of {banner.brand_name}."]
    if banner.note:
        lines.append(f"“{banner.note}”")
    lines.append("You are not subscribed and will get nothing more from us.")
    lines.append(f"Subscribe: {banner.subscribe_url}")
    return "\n".join(lines) + "\n"


def _insert(document: str, marker: str, block: str) -> str:
    """At the renderer's marker; without one, at the top of the body (or the text)."""
    if marker in document:
        return document.replace(marker, block, 1)
    body = _BODY_OPEN.search(document)
    if body:
        return document[: body.end()] + block + document[body.end() :]
    return block + "\n" + document
