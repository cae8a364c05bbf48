"""GET /v/{token} (as that reader got it) and the public archive (nobody's links)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from mailer.core.models import SendState
from mailer.readers.links import Purpose, Signer
from tests.unit.web.conftest import World, add_send


def test_web_version_has_that_readers_own_links(client: TestClient, world: World) -> None:
    page = client.get(world.path(Purpose.VIEW))
    assert page.status_code == 200
    assert "Hello Alice Martin, the news." in page.text
    base = "https://news.example.test"
    for purpose, route in (
        (Purpose.UNSUBSCRIBE, "u"),
        (Purpose.PREFERENCES, "p"),
        (Purpose.FORWARD, "f"),
    ):
        assert f'href="{base}/{route}/{world.token(purpose)}"' in page.text
    assert "-unsubscribe_url-" not in page.text and "-subscriber_name-" not in page.text
    assert page.headers["x-robots-tag"] == "noindex"


def test_web_version_links_really_work(client: TestClient, world: World) -> None:
    page = client.get(world.path(Purpose.VIEW))
    start = page.text.index("https://news.example.test/u/")
    unsubscribe = page.text[start : page.text.index('"', start)]
    assert client.get(unsubscribe.removeprefix("https://news.example.test")).status_code == 200


def test_archive_lists_sent_issues_only(client: TestClient, world: World, engine: Engine) -> None:
    add_send(engine, world.list_id, slug="draft", subject="Not yet", state=SendState.SCHEDULED)
    add_send(engine, world.list_id, slug="test-copy", subject="Test copy", test_to="ed@example.com")
    add_send(
        engine, world.list_id, slug="issue-8", subject="Going out now", state=SendState.SENDING
    )
    page = client.get("/archive")
    assert page.status_code == 200
    assert 'href="/archive/issue-7">Inside a lab' in page.text
    assert 'href="/archive/issue-8">Going out now' in page.text
    assert "Not yet" not in page.text and "Test copy" not in page.text
    assert client.get("/archive/draft").status_code == 404
    assert client.get("/archive/test-copy").status_code == 404


def test_archive_issue_carries_no_personal_links(
    client: TestClient, world: World, engine: Engine
) -> None:
    page = client.get("/archive/issue-7")
    assert page.status_code == 200
    assert "Issue 7: Inside a lab" in page.text
    add_send(engine, world.list_id, slug="no-web-copy", web_html="")
    page = client.get("/archive/no-web-copy")
    assert page.status_code == 200
    for personal in ("/u/", "/p/", "/f/", "Unsubscribe</a>", "-unsubscribe_url-", "Alice"):
        assert personal not in page.text
    assert 'href="https://news.example.test/archive/no-web-copy">View online' in page.text


def test_bad_view_tokens(client: TestClient, world: World) -> None:
    other_key = Signer("another-key").make(
        world.signer.read(world.token(Purpose.VIEW), Purpose.VIEW)
    )
    for path in (
        f"/v/{other_key}",
        world.path(Purpose.FORWARD).replace("/f/", "/v/"),
        world.path(Purpose.VIEW, send_id=777),
        world.path(Purpose.VIEW, 777),
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "Content-Security-Policy" in response.headers
    assert client.get("/archive/nothing-here").status_code == 404
