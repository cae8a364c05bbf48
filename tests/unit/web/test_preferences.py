"""GET/POST /p/{token}: lists to stay on, coming back, and the referral count."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine

from mailer.readers.links import Purpose
from subscribers.db import transaction
from subscribers.models import MailingList, Membership, Subscriber
from tests.unit.web.conftest import World, add_subscriber, form_token


def _save(client: TestClient, world: World, **data: object) -> Response:
    path = world.path(Purpose.PREFERENCES)
    return client.post(path, data={"csrf_token": form_token(client, path), **data})


def _second_list(engine: Engine) -> int:
    with transaction(engine) as session:
        monthly = MailingList(name="monthly", description="Once a month")
        session.add(monthly)
        session.flush()
        return monthly.id


def _memberships(engine: Engine, subscriber_id: int) -> dict[int, str]:
    with transaction(engine) as session:
        subscriber = session.get(Subscriber, subscriber_id)
        assert subscriber is not None
        return {m.list_id: m.status for m in subscriber.memberships}


def test_page_lists_every_newsletter_with_the_readers_choices(
    client: TestClient, world: World, engine: Engine
) -> None:
    monthly = _second_list(engine)
    page = client.get(world.path(Purpose.PREFERENCES))
    assert page.status_code == 200
    assert f'id="list-{world.list_id}" name="lists" value="{world.list_id}" checked' in page.text
    assert f'id="list-{monthly}" name="lists" value="{monthly}">' in page.text
    assert f'<label for="list-{monthly}">monthly' in page.text


def test_switching_lists(client: TestClient, world: World, engine: Engine) -> None:
    monthly = _second_list(engine)
    response = _save(client, world, lists=[str(monthly)], action="save")
    assert response.status_code == 200
    assert "Your choices are saved." in response.text
    assert _memberships(engine, world.alice_id) == {
        world.list_id: "unsubscribed",
        monthly: "subscribed",
    }


def test_resubscribe_is_the_way_back_and_records_consent(
    client: TestClient, world: World, engine: Engine
) -> None:
    client.post(world.path(Purpose.UNSUBSCRIBE), data={"scope": "all"})
    _save(client, world, lists=[str(world.list_id)], action="save")
    with transaction(engine) as session:
        alice = session.get(Subscriber, world.alice_id)
        assert alice is not None
        assert alice.status == "active"
        assert alice.consent_source == "preferences" and alice.consent_ip == "testclient"
        assert alice.consent_at is not None
    assert _memberships(engine, world.alice_id) == {world.list_id: "subscribed"}


def test_leave_all(client: TestClient, world: World, engine: Engine) -> None:
    response = _save(client, world, lists=[str(world.list_id)], action="leave_all")
    assert "unsubscribed from every newsletter" in response.text
    with transaction(engine) as session:
        alice = session.get(Subscriber, world.alice_id)
        assert alice is not None and alice.status == "unsubscribed"


def test_bounced_addresses_stay_suppressed(
    client: TestClient, world: World, engine: Engine
) -> None:
    bounced = add_subscriber(engine, "gone@example.com", status="bounced", list_id=world.list_id)
    path = world.path(Purpose.PREFERENCES, bounced)
    response = client.post(
        path, data={"csrf_token": form_token(client, path), "lists": [str(world.list_id)]}
    )
    assert response.status_code == 200
    with transaction(engine) as session:
        subscriber = session.get(Subscriber, bounced)
        assert subscriber is not None and subscriber.status == "bounced"


def test_referral_count_counts_confirmed_friends_only(
    client: TestClient, world: World, engine: Engine
) -> None:
    now = datetime.now(UTC)
    with transaction(engine) as session:
        for n, confirmed in enumerate((now, now, None)):
            session.add(
                Subscriber(
                    email=f"f{n}@example.com",
                    email_norm=f"f{n}@example.com",
                    referred_by_id=world.alice_id,
                    referred_send_id=world.send_id,
                    confirmed_at=confirmed,
                )
            )
    page = client.get(world.path(Purpose.PREFERENCES))
    assert '<strong class="count">2</strong> people have subscribed' in page.text


def test_csrf_is_required(client: TestClient, world: World, engine: Engine) -> None:
    path = world.path(Purpose.PREFERENCES)
    client.get(path)
    for data in ({"action": "leave_all"}, {"action": "leave_all", "csrf_token": "x"}):
        assert client.post(path, data=data).status_code == 400
    with transaction(engine) as session:
        membership = session.get(Membership, (world.list_id, world.alice_id))
        assert membership is not None and membership.status == "subscribed"


def test_bad_list_ids_and_tokens(client: TestClient, world: World) -> None:
    assert _save(client, world, lists=["abc"]).status_code == 400
    assert client.get(world.path(Purpose.UNSUBSCRIBE).replace("/u/", "/p/")).status_code == 404
    assert client.get(world.path(Purpose.PREFERENCES, 424242)).status_code == 404
