"""GET/POST /f/{token}: forward an issue to friends, with every abuse limit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine, func, select

from mailer.core.models import Forward
from mailer.core.settings import Settings
from mailer.readers import forwarding
from mailer.readers.links import Purpose
from mailer.web.app import create_app
from subscribers.db import transaction
from subscribers.models import Subscriber
from tests.unit.web.conftest import World, add_subscriber, body, form_token, outbox


def _forward(
    client: TestClient, world: World, emails: str, note: str = "", **extra: str
) -> Response:
    path = world.path(Purpose.FORWARD)
    data = {"csrf_token": form_token(client, path), "emails": emails, "note": note, **extra}
    return client.post(path, data=data)


def _forwards(engine: Engine) -> list[tuple[int, int | None, int]]:
    with transaction(engine) as session:
        rows = session.execute(select(Forward.subscriber_id, Forward.send_id, Forward.friend_count))
        return [tuple(row) for row in rows]  # type: ignore[misc]


def test_page_shows_the_issue_and_a_labelled_form(client: TestClient, world: World) -> None:
    page = client.get(world.path(Purpose.FORWARD))
    assert page.status_code == 200
    assert "Issue 7: Inside a lab" in page.text
    assert '<label for="emails">' in page.text and '<label for="note">' in page.text
    assert 'maxlength="140"' in page.text
    assert "-unsubscribe_url-" not in page.text and "<style>" not in page.text


def test_each_friend_gets_the_issue_with_banner_and_referral_but_no_personal_links(
    client: TestClient, world: World, engine: Engine, workdir: Path
) -> None:
    response = _forward(
        client, world, "ann@example.com, bo@example.org\ncy@example.net", "Read this!"
    )
    assert response.status_code == 200, response.text
    messages = outbox(workdir)
    assert sorted(m["To"] for m in messages) == [
        "ann@example.com",
        "bo@example.org",
        "cy@example.net",
    ]
    for message in messages:
        html, text = body(message, "html"), body(message, "plain")
        assert message["Subject"] == "Fwd: Inside a lab"
        assert "Alice Martin via" in message["From"]
        assert "<strong>Alice Martin</strong> sent you this issue" in html
        assert "“Read this!”" in html and "“Read this!”" in text
        assert "https://news.example.test/subscribe?ref=" in html
        for personal in ("/u/", "/p/", "/f/", "/v/", "Unsubscribe</a>", "-unsubscribe_url-"):
            assert personal not in html and personal not in text
        assert "https://news.example.test/archive/issue-7" in html
        args = json.loads(message["X-Newsletter-Custom-Args"])
        assert args == {"nl_kind": "forward", "nl_forward_send_id": str(world.send_id)}
    assert _forwards(engine) == [(world.alice_id, world.send_id, 3)]


def test_friends_are_not_stored_as_subscribers(
    client: TestClient, world: World, engine: Engine
) -> None:
    _forward(client, world, "ann@example.com")
    with transaction(engine) as session:
        emails = session.scalars(select(Subscriber.email_norm)).all()
    assert emails == ["alice@example.com"]


def test_script_in_the_note_is_shown_as_text(
    client: TestClient, world: World, workdir: Path
) -> None:
    _forward(client, world, "ann@example.com", "<script>alert(1)</script>")
    html = body(outbox(workdir)[0], "html")
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_opted_out_friends_are_skipped_without_saying_so(
    client: TestClient, world: World, engine: Engine, workdir: Path
) -> None:
    for address, status in (
        ("gone@example.com", "unsubscribed"),
        ("bad@example.com", "bounced"),
        ("angry@example.com", "complained"),
    ):
        add_subscriber(engine, address, status=status)
    response = _forward(
        client, world, "gone@example.com bad@example.com angry@example.com ok@example.com"
    )
    assert response.status_code == 200
    assert "4 addresses" in response.text
    assert [m["To"] for m in outbox(workdir)] == ["ok@example.com"]


@pytest.mark.parametrize(
    ("emails", "note", "problem"),
    [
        ("not-an-address", "", "is not an email address"),
        (
            "a@example.com b@example.com c@example.com d@example.com e@example.com f@example.com",
            "",
            "at most 5 people",
        ),
        ("a@example.com", "x" * 141, "at most 140 characters"),
        ("", "", "at least one"),
    ],
)
def test_bad_input_is_a_form_error_not_a_500(
    client: TestClient,
    world: World,
    engine: Engine,
    workdir: Path,
    emails: str,
    note: str,
    problem: str,
) -> None:
    response = _forward(client, world, emails, note)
    assert response.status_code == 400
    assert problem in response.text
    assert 'role="alert"' in response.text
    assert outbox(workdir) == []
    assert _forwards(engine) == []


def test_twenty_friends_per_issue(client: TestClient, world: World, workdir: Path) -> None:
    for batch in range(4):
        emails = " ".join(f"f{batch}{n}@example.com" for n in range(5))
        assert _forward(client, world, emails).status_code == 200
    refused = _forward(client, world, "one-more@example.com")
    assert refused.status_code == 400
    assert "20 people in all; 0 left" in refused.text
    assert len(outbox(workdir)) == 20


def test_a_hundred_friends_a_day(client: TestClient, world: World, engine: Engine) -> None:
    with transaction(engine) as session:
        session.add(Forward(send_id=None, subscriber_id=world.alice_id, friend_count=98))
    refused = _forward(client, world, "a@example.com b@example.com c@example.com")
    assert refused.status_code == 400
    assert "100 people a day" in refused.text
    assert _forward(client, world, "a@example.com b@example.com").status_code == 200


def test_per_ip_limit(web_settings: Settings, world: World) -> None:
    strict = web_settings.model_copy(update={"FORWARD_IP_LIMIT_PER_HOUR": 3})
    with TestClient(create_app(strict)) as client:
        assert _forward(client, world, "a@example.com b@example.com").status_code == 200
        refused = _forward(client, world, "c@example.com d@example.com")
    assert refused.status_code == 429
    assert "Please slow down" in refused.text


def test_honeypot_looks_like_success_and_mails_nobody(
    client: TestClient, world: World, engine: Engine, workdir: Path
) -> None:
    response = _forward(client, world, "ann@example.com", website="http://spam.example")
    assert response.status_code == 200
    assert not (workdir / "var" / "outbox").exists()
    assert _forwards(engine) == []


def test_csrf_missing_or_bad_is_refused(client: TestClient, world: World, workdir: Path) -> None:
    path = world.path(Purpose.FORWARD)
    good = form_token(client, path)
    other_page = form_token(client, world.path(Purpose.PREFERENCES))
    for token in ("", "forged", other_page):
        response = client.post(path, data={"csrf_token": token, "emails": "ann@example.com"})
        assert response.status_code == 400
        assert "Reload the page" in response.text
    client.cookies.clear()  # the signed field alone is not enough without its cookie
    response = client.post(path, data={"csrf_token": good, "emails": "ann@example.com"})
    assert response.status_code == 400
    assert not (workdir / "var" / "outbox").exists()


def test_bad_tokens_get_a_friendly_404(client: TestClient, world: World) -> None:
    for path in (
        world.path(Purpose.VIEW).replace("/v/", "/f/"),
        "/f/garbage",
        world.path(Purpose.FORWARD, send_id=9999),
    ):
        response = client.get(path)
        assert response.status_code == 404
        assert "<h1>" in response.text


def test_counts_only_no_addresses_in_the_forwards_table(
    client: TestClient, world: World, engine: Engine
) -> None:
    _forward(client, world, "ann@example.com")
    with transaction(engine) as session:
        assert session.scalar(select(func.count()).select_from(Forward)) == 1
    assert {c.name for c in Forward.__table__.columns} == {
        "id",
        "send_id",
        "subscriber_id",
        "friend_count",
        "ip",
        "created_at",
    }


def test_parse_friends_accepts_every_separator_and_drops_duplicates() -> None:
    assert forwarding.parse_friends(
        " a@example.com,b@example.com;\n\nA@example.com  c@example.com "
    ) == ["a@example.com", "b@example.com", "c@example.com"]
