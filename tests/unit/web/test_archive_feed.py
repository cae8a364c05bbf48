"""GET /archive/feed.xml: an Atom feed of issues sent to public lists, read back by feedparser."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree as ET

import feedparser
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from mailer.core.models import SendState
from mailer.readers.archive_feed import ATOM, FeedEntry, FeedInfo, atom_feed
from subscribers.db import transaction
from subscribers.models import MailingList
from tests.unit.web.conftest import World, add_send

BASE = "https://news.example.test"


def private_list(engine: Engine) -> int:
    with transaction(engine) as session:
        hidden = MailingList(name="investors", description="Private", public=False)
        session.add(hidden)
        session.flush()
        return hidden.id


def test_the_feed_lists_public_issues_only(
    client: TestClient, world: World, engine: Engine
) -> None:
    at = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)  # after issue-7
    add_send(engine, world.list_id, slug="issue-8", subject="Chips & “dips”", started_at=at,
             preheader="Packaging <news>")  # fmt: skip
    add_send(engine, world.list_id, slug="draft", subject="Not yet", state=SendState.SCHEDULED)
    add_send(engine, world.list_id, slug="test", subject="Test copy", test_to="ed@example.com")
    add_send(engine, world.list_id, slug="hidden", subject="Not archived", archived=False)
    add_send(engine, private_list(engine), slug="private", subject="Investors only")
    add_send(engine, world.list_id, slug="issue-8", subject="Chips & “dips”", started_at=at)

    response = client.get("/archive/feed.xml")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    titles = [entry.title for entry in feed.entries]
    assert titles == ["Chips & “dips”", "Inside a lab"], "newest first, each issue once"
    first = feed.entries[0]
    assert first.link == f"{BASE}/archive/issue-8"
    assert first.id == f"{BASE}/archive/issue-8"
    assert first.summary == "Packaging <news>"
    assert first.updated_parsed[:6] == at.timetuple()[:6]
    assert feed.feed.updated_parsed[:6] == at.timetuple()[:6]
    assert any(link.rel == "self" for link in feed.feed.links)


def test_an_empty_archive_is_still_a_valid_feed(client: TestClient) -> None:
    feed = feedparser.parse(client.get("/archive/feed.xml").content)
    assert not feed.bozo and feed.version == "atom10" and feed.entries == []
    assert feed.feed.title


def test_archive_pages_link_to_the_feed(client: TestClient, world: World) -> None:
    page = client.get("/archive").text
    assert '<link rel="alternate" type="application/atom+xml"' in page
    assert 'href="/archive/feed.xml"' in page


def test_every_required_atom_element_is_there() -> None:
    info = FeedInfo("Future Compute", "Chips weekly", "The Editors", BASE)
    entry = FeedEntry("a b", "Subject", "", datetime(2026, 1, 1, tzinfo=UTC))
    root = ET.fromstring(atom_feed(info, [entry], datetime.now(UTC)))
    assert root.tag == f"{{{ATOM}}}feed"
    for tag in ("id", "title", "updated", "author"):
        assert root.find(f"{{{ATOM}}}{tag}") is not None, tag
    item = root.find(f"{{{ATOM}}}entry")
    assert item is not None
    for tag in ("id", "title", "updated", "link"):
        assert item.find(f"{{{ATOM}}}{tag}") is not None, tag
    assert item.findtext(f"{{{ATOM}}}id") == f"{BASE}/archive/a%20b"
