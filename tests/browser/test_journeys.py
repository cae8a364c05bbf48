"""Real browser journeys against `newsletter serve`, mailing through the local SendGrid server.

A reader leaves from an email's web version; another forwards the issue to two friends; one
friend signs up through the forwarded copy and confirms. Screenshots at 375 px wide are kept
in test-artifacts/ for a look at how the pages render on a phone.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import Engine, select

from mailer.core.settings import Settings
from mailer.readers.links import Purpose, Signer, Token, link
from subscribers.db import transaction
from subscribers.models import MailingList, Membership, Subscriber
from tests.fixtures.browser import artifact_path
from tests.fixtures.fake_sendgrid import FakeSendGrid, fake_sendgrid
from tests.fixtures.services import free_port, port_open, wait_for
from tests.unit.web.conftest import add_send, add_subscriber

pytestmark = pytest.mark.browser


@dataclass
class Site:
    url: str
    sendgrid: FakeSendGrid
    signer: Signer
    engine: Engine

    def link(self, purpose: Purpose, subscriber_id: int, list_id: int, send_id: int) -> str:
        with transaction(self.engine) as session:
            reader = session.get(Subscriber, subscriber_id)
            key = reader.link_key if reader is not None else 0
        token = Token(purpose, subscriber_id, list_id, send_id, key=key)
        return link(self.url, self.signer, token)


@pytest.fixture
def site(settings: Settings, engine: Engine) -> Iterator[Site]:
    """`newsletter serve` as a real uvicorn subprocess, its mail going to the local SendGrid."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with fake_sendgrid(record="full") as sendgrid:
        env = {
            **os.environ,
            "SENDGRID_API_KEY": sendgrid.api_key,
            "SENDGRID_API_HOST": sendgrid.url,
            "PUBLIC_BASE_URL": url,
        }
        command = [sys.executable, "-m", "mailer.cli.main", "serve", "--port", str(port)]
        server = subprocess.Popen(command, env=env, cwd=os.getcwd())
        try:
            wait_for(lambda: port_open(port), what="newsletter serve")
            assert httpx.get(f"{url}/healthz").status_code == 200
            yield Site(url, sendgrid, Signer(settings.SECRET_KEY), engine)
        finally:
            server.terminate()
            server.wait(15)


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 375, "height": 812})
    page = context.new_page()
    yield page
    context.close()


def _shot(page: Page, name: str) -> None:
    page.screenshot(path=str(artifact_path(f"web-{name}.png")), full_page=True)


def _issue_world(engine: Engine) -> tuple[int, int, int, int]:
    with transaction(engine) as session:
        weekly = MailingList(name="weekly", description="The Monday issue")
        session.add(weekly)
        session.flush()
        list_id = weekly.id
    alice = add_subscriber(engine, "alice@example.com", "Alice", list_id=list_id)
    bob = add_subscriber(engine, "bob@example.com", "Bob Stone", list_id=list_id)
    return list_id, alice, bob, add_send(engine, list_id)


def _mail_to(site: Site, address: str, subject: str = "") -> list[dict[str, Any]]:
    """Bodies of the requests the local SendGrid accepted for `address` (waits for one)."""
    found: list[dict[str, Any]] = []

    def arrived() -> bool:
        found[:] = [
            r["body"]
            for r in site.sendgrid.requests()
            if any(address in p["to"] for p in r["personalizations"])
            and r["subject"].startswith(subject)
        ]
        return bool(found)

    wait_for(arrived, what=f"mail to {address}")
    return found


def _html(payload: dict[str, Any]) -> str:
    return next(c["value"] for c in payload["content"] if c["type"] == "text/html")


def test_a_reader_leaves_from_the_web_version(site: Site, phone: Page, engine: Engine) -> None:
    list_id, alice, _bob, send_id = _issue_world(engine)
    phone.goto(site.link(Purpose.VIEW, alice, list_id, send_id))
    expect(phone.get_by_role("heading", name="Issue 7: Inside a lab")).to_be_visible()
    _shot(phone, "1-web-version")
    phone.get_by_role("link", name="Unsubscribe").click()
    expect(phone.get_by_role("heading", name="Unsubscribe")).to_be_visible()
    _shot(phone, "2-unsubscribe")
    with transaction(engine) as session:  # opening the page changed nothing
        membership = session.get(Membership, (list_id, alice))
        assert membership is not None and membership.status == "subscribed"
    phone.get_by_role("button", name="Unsubscribe").click()
    expect(phone.get_by_role("heading", name="You are unsubscribed")).to_be_visible()
    _shot(phone, "3-unsubscribed")
    with transaction(engine) as session:
        membership = session.get(Membership, (list_id, alice))
        assert membership is not None
        assert (membership.status, membership.unsubscribe_source) == ("unsubscribed", "page")


def test_forward_to_two_friends_then_one_signs_up_and_confirms(
    site: Site, phone: Page, engine: Engine
) -> None:
    list_id, _alice, bob, send_id = _issue_world(engine)
    phone.goto(site.link(Purpose.VIEW, bob, list_id, send_id))
    phone.get_by_role("link", name="Forward").click()
    phone.get_by_label("Your friends’ email addresses").fill("ann@example.com,\nben@example.org")
    phone.get_by_label("A short note (optional)").fill("You will like the <b>lab</b> piece")
    _shot(phone, "4-forward")
    phone.get_by_role("button", name="Send to my friends").click()
    expect(phone.get_by_role("heading", name="Sent, thank you")).to_be_visible()
    _shot(phone, "5-forwarded")
    for friend in ("ann@example.com", "ben@example.org"):
        [payload] = _mail_to(site, friend, subject="Fwd:")
        assert "Bob Stone" in _html(payload) and "&lt;b&gt;lab&lt;/b&gt;" in _html(payload)
    with transaction(engine) as session:  # the friends are not kept as subscribers
        assert (
            session.scalar(select(Subscriber).where(Subscriber.email == "ann@example.com")) is None
        )

    subscribe = re.search(
        r'href="([^"]+/subscribe\?ref=[^"]+)"', _html(_mail_to(site, "ann@example.com", "Fwd:")[0])
    )
    assert subscribe is not None
    phone.goto(subscribe.group(1))
    phone.get_by_label("Email address").fill("ann@example.com")
    phone.get_by_label("Name (optional)").fill("Ann")
    _shot(phone, "6-subscribe")
    phone.get_by_role("button", name="Subscribe").click()
    expect(phone.get_by_role("heading", name="Check your inbox")).to_be_visible()
    _shot(phone, "7-check-inbox")

    [confirmation] = _mail_to(site, "ann@example.com", subject="Please confirm")
    confirm = re.search(r'href="([^"]+/confirm/[^"]+)"', _html(confirmation))
    assert confirm is not None
    phone.goto(confirm.group(1))
    # Opening the link only shows a button (mail scanners open links too).
    expect(phone.get_by_role("heading", name="Confirm your subscription")).to_be_visible()
    phone.get_by_role("button", name="Confirm").click()
    expect(phone.get_by_role("heading", name="You are subscribed")).to_be_visible()
    _shot(phone, "8-confirmed")
    with transaction(engine) as session:
        ann = session.scalars(
            select(Subscriber).where(Subscriber.email_norm == "ann@example.com")
        ).one()
        assert ann.status == "active" and ann.confirmed_at is not None
        assert (ann.referred_by_id, ann.referred_send_id) == (bob, send_id)
    phone.goto(site.link(Purpose.PREFERENCES, bob, list_id, send_id))
    expect(phone.locator(".count")).to_have_text("1")
    _shot(phone, "9-preferences")
