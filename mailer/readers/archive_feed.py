"""The public archive as an Atom feed (RFC 4287): issues sent to public lists, newest first.

Only what the archive page shows goes in: really sent (not drafts, not test copies), archived,
and sent to a list marked public; one entry per issue even when it went to several lists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote
from xml.etree import ElementTree as ET

from sqlalchemy import Engine, func, select

from mailer.core.models import Send, SendState
from subscribers.db import transaction
from subscribers.models import MailingList

ATOM = "http://www.w3.org/2005/Atom"
FEED_PATH = "/archive/feed.xml"
FEED_ENTRIES = 50
_PUBLISHED = (SendState.SENDING, SendState.DONE)


@dataclass(frozen=True, slots=True)
class FeedEntry:
    slug: str
    subject: str
    summary: str
    published: datetime


@dataclass(frozen=True, slots=True)
class FeedInfo:
    title: str
    subtitle: str
    author: str
    base_url: str


def public_archive_entries(engine: Engine, limit: int = FEED_ENTRIES) -> list[FeedEntry]:
    """The newest public issues, one entry per slug (its first public send)."""
    sent_at = func.coalesce(Send.started_at, Send.created_at)
    with transaction(engine) as session:
        rows = session.execute(
            select(Send.slug, Send.subject, Send.preheader, sent_at.label("at"))
            .join(MailingList, MailingList.id == Send.list_id)
            .where(*public_sends())
            .order_by(sent_at.desc(), Send.id.desc())
            .limit(limit * 4)
        ).all()
    entries: dict[str, FeedEntry] = {}
    for row in rows:  # newest first: the last one seen for a slug is its first sending
        entries[row.slug] = FeedEntry(row.slug, row.subject, row.preheader, _utc(row.at))
    ordered = sorted(entries.values(), key=lambda entry: entry.published, reverse=True)
    return ordered[:limit]


def public_sends() -> tuple[Any, ...]:
    """Conditions of a send the public may read (join MailingList on Send.list_id)."""
    return (
        Send.state.in_([str(state) for state in _PUBLISHED]),
        Send.test_to.is_(None),
        Send.archived,
        MailingList.public,
    )


def atom_feed(info: FeedInfo, entries: list[FeedEntry], now: datetime) -> bytes:
    """The Atom document; `updated` is the newest entry's date (or `now` for an empty feed)."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    archive_url = f"{info.base_url}/archive"
    _add(feed, "id", archive_url)
    _add(feed, "title", info.title)
    if info.subtitle:
        _add(feed, "subtitle", info.subtitle)
    _add(feed, "updated", _stamp(entries[0].published if entries else now))
    author = ET.SubElement(feed, f"{{{ATOM}}}author")
    _add(author, "name", info.author)
    _link(feed, archive_url, "alternate", "text/html")
    _link(feed, f"{info.base_url}{FEED_PATH}", "self", "application/atom+xml")
    for item in entries:
        url = f"{archive_url}/{quote(item.slug)}"
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        _add(entry, "id", url)
        _add(entry, "title", item.subject)
        _add(entry, "updated", _stamp(item.published))
        _add(entry, "published", _stamp(item.published))
        _link(entry, url, "alternate", "text/html")
        if item.summary:
            _add(entry, "summary", item.summary)
    document = ET.tostring(feed, encoding="unicode")
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + document).encode("utf-8")


def _add(parent: ET.Element, tag: str, text: str) -> None:
    ET.SubElement(parent, f"{{{ATOM}}}{tag}").text = text


def _link(parent: ET.Element, href: str, rel: str, kind: str) -> None:
    ET.SubElement(parent, f"{{{ATOM}}}link", {"href": href, "rel": rel, "type": kind})


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _stamp(value: datetime) -> str:
    return _utc(value).strftime("%Y-%m-%dT%H:%M:%SZ")
