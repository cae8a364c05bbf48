"""/subscribe and /confirm/{token}: double opt-in that reveals nothing and mails sparingly."""

from __future__ import annotations

import re
import time
from pathlib import Path

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine, select

from mailer.core.settings import Settings
from mailer.readers.links import Purpose, Token
from mailer.web.app import create_app
from subscribers.db import transaction
from subscribers.models import MailingList, Membership, Subscriber
from tests.unit.web.conftest import World, add_subscriber, body, form_token, outbox

CONFIRM = re.compile(r"https://news\.example\.test(/confirm/[A-Za-z0-9_-]+)")


def _signup(client: TestClient, email: str, path: str = "/subscribe", **extra: str) -> Response:
    data = {"csrf_token": form_token(client, path), "email": email, **extra}
    return client.post("/subscribe", data=data)


def _subscriber(engine: Engine, email: str) -> Subscriber | None:
    with transaction(engine) as session:
        return session.scalars(
            select(Subscriber).where(Subscriber.email_norm == email.lower())
        ).first()


def _confirm_path(workdir: Path, to: str) -> str:
    mine = [m for m in outbox(workdir) if m["To"] == to]
    assert len(mine) == 1
    found = CONFIRM.search(body(mine[0], "plain"))
    assert found is not None
    return found.group(1)


def _press_confirm(client: TestClient, path: str) -> Response:
    """What a reader does: open the link, press the button (the GET alone changes nothing)."""
    return client.post(path, data={"csrf_token": form_token(client, path)})


def test_signup_is_pending_until_confirmed(
    client: TestClient, world: World, engine: Engine, workdir: Path
) -> None:
    page = _signup(client, "new@example.com", name="New Reader")
    assert page.status_code == 200 and "Check your inbox" in page.text
    pending = _subscriber(engine, "new@example.com")
    assert pending is not None and pending.status == "pending" and pending.name == "New Reader"
    assert pending.confirm_sent_at is not None and pending.confirmed_at is None
    confirmed = _press_confirm(client, _confirm_path(workdir, "new@example.com"))
    assert confirmed.status_code == 200 and "You are subscribed" in confirmed.text
    active = _subscriber(engine, "new@example.com")
    assert active is not None and active.status == "active"
    assert active.confirmed_at is not None and active.consent_at is not None
    assert active.consent_source == "double-opt-in" and active.consent_ip == "testclient"
    with transaction(engine) as session:
        membership = session.get(Membership, (world.list_id, active.id))
        assert membership is not None and membership.status == "subscribed"


def test_every_signup_gets_the_same_answer(
    client: TestClient, world: World, engine: Engine
) -> None:
    add_subscriber(engine, "bounced@example.com", status="bounced")
    answers = {
        _signup(client, email).text.replace(email, "")
        for email in (
            "fresh@example.com",
            "Alice@Example.com",
            "bounced@example.com",
            "fresh@example.com",
        )
    }
    assert len(answers) == 1


def test_repeats_within_the_cooldown_send_no_more_mail(
    client: TestClient, world: World, workdir: Path
) -> None:
    for _ in range(3):
        assert _signup(client, "again@example.com").status_code == 200
    assert [m["To"] for m in outbox(workdir)] == ["again@example.com"]


def test_subscribed_and_suppressed_people_get_no_mail_and_stay_as_they_are(
    client: TestClient, world: World, engine: Engine, workdir: Path
) -> None:
    add_subscriber(engine, "angry@example.com", status="complained")
    _signup(client, "Alice@example.com")
    _signup(client, "angry@example.com")
    assert outbox(workdir) == []
    angry = _subscriber(engine, "angry@example.com")
    assert angry is not None and angry.status == "complained"


def test_a_confirm_link_cannot_bring_back_a_bounced_address(
    client: TestClient, world: World, engine: Engine
) -> None:
    bounced = add_subscriber(engine, "b@example.com", status="bounced")
    key = world.key(bounced)
    token = world.signer.make(
        Token(Purpose.CONFIRM, bounced, world.list_id, 0, int(time.time()), key)
    )
    assert _press_confirm(client, f"/confirm/{token}").status_code == 400
    subscriber = _subscriber(engine, "b@example.com")
    assert subscriber is not None and subscriber.status == "bounced"


def test_confirm_links_expire_after_seven_days(
    client: TestClient, world: World, engine: Engine
) -> None:
    pending = add_subscriber(engine, "late@example.com", status="pending")
    issued = int(time.time()) - 7 * 24 * 3600 - 60
    token = world.signer.make(
        Token(Purpose.CONFIRM, pending, world.list_id, 0, issued, world.key(pending))
    )
    response = client.get(f"/confirm/{token}")
    assert response.status_code == 400 and "expired" in response.text
    subscriber = _subscriber(engine, "late@example.com")
    assert subscriber is not None and subscriber.status == "pending"


def test_forged_and_wrong_purpose_confirm_links(client: TestClient, world: World) -> None:
    assert client.get("/confirm/forged-token").status_code == 404
    assert client.get(world.path(Purpose.VIEW).replace("/v/", "/confirm/")).status_code == 404


def test_referral_is_credited_once_the_friend_confirms(
    client: TestClient, world: World, engine: Engine, workdir: Path
) -> None:
    ref = world.token(Purpose.REFERRAL)
    path = f"/subscribe?ref={ref}"
    assert f'name="ref" value="{ref}"' in client.get(path).text
    _signup(client, "friend@example.com", path, ref=ref)
    _press_confirm(client, _confirm_path(workdir, "friend@example.com"))
    friend = _subscriber(engine, "friend@example.com")
    assert friend is not None
    assert (friend.referred_by_id, friend.referred_send_id) == (world.alice_id, world.send_id)
    preferences = client.get(world.path(Purpose.PREFERENCES))
    assert '<strong class="count">1</strong> person has subscribed' in preferences.text


def test_a_forged_referral_is_ignored(client: TestClient, world: World, engine: Engine) -> None:
    assert _signup(client, "x@example.com", ref="forged").status_code == 200
    subscriber = _subscriber(engine, "x@example.com")
    assert subscriber is not None and subscriber.referred_by_id is None


def test_bad_input_and_csrf(client: TestClient, world: World, engine: Engine) -> None:
    response = _signup(client, "not an address")
    assert response.status_code == 400 and 'role="alert"' in response.text
    assert _signup(client, "a@example.com", list="no-such-list").status_code == 404
    assert client.post("/subscribe", data={"email": "a@example.com"}).status_code == 400
    assert _subscriber(engine, "a@example.com") is None


def test_without_a_list_the_default_list_is_used(
    web_settings: Settings, engine: Engine, workdir: Path
) -> None:
    with TestClient(create_app(web_settings.model_copy(update={"DEFAULT_LIST": "news"}))) as client:
        _signup(client, "d@example.com")
    with transaction(engine) as session:
        names = session.scalars(select(MailingList.name)).all()
        subscriber = session.scalars(select(Subscriber)).one()
        assert names == ["news"] and [m.status for m in subscriber.memberships] == ["pending"]


def test_signup_per_ip_limit(web_settings: Settings, world: World) -> None:
    with TestClient(
        create_app(web_settings.model_copy(update={"SIGNUP_IP_LIMIT_PER_HOUR": 2}))
    ) as client:
        assert [_signup(client, f"s{n}@example.com").status_code for n in range(3)] == [
            200,
            200,
            429,
        ]


def test_honeypot(client: TestClient, world: World, engine: Engine, workdir: Path) -> None:
    assert _signup(client, "bot@example.com", website="x").status_code == 200
    assert _subscriber(engine, "bot@example.com") is None and outbox(workdir) == []
