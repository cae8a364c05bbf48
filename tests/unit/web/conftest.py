"""Fixtures for the web page tests: the app on a migrated database, a sent issue, its readers."""

from __future__ import annotations

import email
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from mailer.core.models import Send, SendState
from mailer.core.settings import Settings
from mailer.issue.placeholders import (
    BANNER_MARKER,
    FORWARD_URL,
    NAME,
    PREFERENCES_URL,
    TEXT_BANNER_MARKER,
    UNSUBSCRIBE_URL,
    VIEW_URL,
)
from mailer.readers.links import Purpose, Signer, Token
from mailer.tasks.app import worker_settings
from mailer.web.app import create_app
from subscribers.db import transaction
from subscribers.models import MailingList, Membership, Status, Subscriber

ISSUE_HTML = f"""<!doctype html><html><head><style>.x{{color:red}}</style></head>
<body>{BANNER_MARKER}<h1>Issue 7: Inside a lab</h1><p>Hello {NAME}, the news.</p>
<p><a href="{VIEW_URL}">View online</a> · <a href="{FORWARD_URL}">Forward</a> ·
<a href="{PREFERENCES_URL}">Preferences</a> · <a href="{UNSUBSCRIBE_URL}">Unsubscribe</a></p>
</body></html>"""
ISSUE_TEXT = f"""{TEXT_BANNER_MARKER}
Issue 7: Inside a lab
Hello {NAME}, the news.
View online: {VIEW_URL}
Forward: {FORWARD_URL}
Preferences: {PREFERENCES_URL}
Unsubscribe: {UNSUBSCRIBE_URL}
"""
WEB_HTML = "<!doctype html><html><body><h1>Issue 7: Inside a lab</h1></body></html>"


@dataclass
class World:
    """A list, a sent issue and its reader Alice; `token()` signs links for them."""

    signer: Signer
    list_id: int
    send_id: int
    alice_id: int
    engine: Engine | None = None  # to bind links to the reader's key, as the send path does

    def token(self, purpose: Purpose, subscriber_id: int | None = None, **fields: int) -> str:
        who = subscriber_id or self.alice_id
        values = {"list_id": self.list_id, "send_id": self.send_id, "key": self.key(who)}
        return self.signer.make(Token(purpose, who, **{**values, **fields}))

    def key(self, subscriber_id: int) -> int:
        if self.engine is None:
            return 0
        with transaction(self.engine) as session:
            subscriber = session.get(Subscriber, subscriber_id)
            return subscriber.link_key if subscriber is not None else 0

    def path(self, purpose: Purpose, subscriber_id: int | None = None, **fields: int) -> str:
        route = {"u": "u", "p": "p", "f": "f", "v": "v", "c": "confirm"}[purpose.value.decode()]
        return f"/{route}/{self.token(purpose, subscriber_id, **fields)}"


@pytest.fixture
def web_settings(settings: Settings) -> Iterator[Settings]:
    """The test's settings, also for eager tasks (they read the environment, cached)."""
    worker_settings.cache_clear()
    yield settings
    worker_settings.cache_clear()


@pytest.fixture
def client(web_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(web_settings), follow_redirects=False) as test_client:
        yield test_client


def add_subscriber(
    engine: Engine,
    email_address: str,
    name: str = "",
    status: str = Status.ACTIVE,
    list_id: int | None = None,
) -> int:
    with transaction(engine) as session:
        subscriber = Subscriber(
            email=email_address, email_norm=email_address.lower(), name=name, status=status
        )
        session.add(subscriber)
        session.flush()
        if list_id is not None:
            session.add(Membership(list_id=list_id, subscriber_id=subscriber.id))
        return subscriber.id


def add_send(engine: Engine, list_id: int, **fields: object) -> int:
    values: dict[str, object] = {
        "slug": "issue-7",
        "subject": "Inside a lab",
        "html": ISSUE_HTML,
        "text": ISSUE_TEXT,
        "web_html": WEB_HTML,
        "list_id": list_id,
        "state": SendState.DONE,
        "issue_date": "2026-01-05",
        **fields,
    }
    with transaction(engine) as session:
        send = Send(**values)
        session.add(send)
        session.flush()
        return send.id


@pytest.fixture
def world(engine: Engine, web_settings: Settings) -> World:
    with transaction(engine) as session:
        weekly = MailingList(name="weekly", description="Every Monday")
        session.add(weekly)
        session.flush()
        list_id = weekly.id
    alice = add_subscriber(engine, "Alice@Example.com", "Alice Martin", list_id=list_id)
    send_id = add_send(engine, list_id)
    return World(Signer(web_settings.SECRET_KEY), list_id, send_id, alice, engine)


def outbox(workdir: Path) -> list[EmailMessage]:
    """Messages the outbox transport wrote, oldest first."""
    files = sorted((workdir / "var" / "outbox").glob("*.eml"), key=lambda p: p.stat().st_mtime)
    return [email.message_from_bytes(path.read_bytes(), policy=default) for path in files]


def body(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    assert part is not None
    return str(part.get_content())


def form_token(client: TestClient, path: str) -> str:
    """The CSRF field of the form on `path` (and its cookie, kept by the client)."""
    page = client.get(path)
    assert page.status_code == 200, page.text
    marker = 'name="csrf_token" value="'
    start = page.text.index(marker) + len(marker)
    return page.text[start : page.text.index('"', start)]


def now() -> int:
    return int(time.time())
