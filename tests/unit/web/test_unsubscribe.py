"""GET/POST /u/{token}: a page that changes nothing, and RFC 8058 one-click unsubscribes."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from mailer.core.models import Event
from mailer.readers.links import Purpose, Token
from subscribers.db import transaction
from subscribers.models import MailingList, Membership, Subscriber
from tests.unit.web.conftest import World, add_subscriber


def _state(
    engine: Engine, world: World, subscriber_id: int | None = None
) -> tuple[str, str, str | None]:
    sid = subscriber_id or world.alice_id
    with transaction(engine) as session:
        subscriber = session.get(Subscriber, sid)
        membership = session.get(Membership, (world.list_id, sid))
        assert subscriber is not None and membership is not None
        return subscriber.status, membership.status, membership.unsubscribe_source


def test_get_shows_one_button_and_changes_nothing(
    client: TestClient, world: World, engine: Engine
) -> None:
    for _ in range(3):  # mail scanners follow links, sometimes several times
        page = client.get(world.path(Purpose.UNSUBSCRIBE))
        assert page.status_code == 200
    assert page.text.count("<button") == 1
    assert 'name="scope" value="all"' in page.text
    assert "Alice@Example.com" in page.text and "weekly" in page.text
    assert _state(engine, world) == ("active", "subscribed", None)


def test_one_click_urlencoded_leaves_the_list_with_200_and_no_cookie(
    client: TestClient, world: World, engine: Engine
) -> None:
    client.cookies.clear()
    response = client.post(
        world.path(Purpose.UNSUBSCRIBE),
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200
    assert "location" not in response.headers and "set-cookie" not in response.headers
    assert _state(engine, world) == ("active", "unsubscribed", "one-click")


def test_one_click_multipart_is_accepted_too(
    client: TestClient, world: World, engine: Engine
) -> None:
    response = client.post(
        world.path(Purpose.UNSUBSCRIBE),
        files={"List-Unsubscribe": (None, "One-Click")},
    )
    assert response.request.headers["content-type"].startswith("multipart/form-data")
    assert response.status_code == 200
    assert _state(engine, world) == ("active", "unsubscribed", "one-click")


def test_one_click_is_idempotent_and_recorded_once_for_the_report(
    client: TestClient, world: World, engine: Engine
) -> None:
    for _ in range(3):
        response = client.post(
            world.path(Purpose.UNSUBSCRIBE), data={"List-Unsubscribe": "One-Click"}
        )
        assert response.status_code == 200
    with transaction(engine) as session:
        events = session.scalars(select(Event)).all()
        membership = session.get(Membership, (world.list_id, world.alice_id))
        assert membership is not None and membership.unsubscribed_at is not None
    assert [(e.event, e.send_id, e.subscriber_id, e.data["source"]) for e in events] == [
        ("group_unsubscribe", world.send_id, world.alice_id, "one-click")
    ]
    assert events[0].applied_at is not None  # already done: the event policy leaves it alone


def test_one_click_leaves_only_the_list_the_mail_came_from(
    client: TestClient, world: World, engine: Engine
) -> None:
    with transaction(engine) as session:
        other = MailingList(name="monthly")
        session.add(other)
        session.flush()
        session.add(Membership(list_id=other.id, subscriber_id=world.alice_id))
        other_id = other.id
    client.post(world.path(Purpose.UNSUBSCRIBE), data={"List-Unsubscribe": "One-Click"})
    with transaction(engine) as session:
        kept = session.get(Membership, (other_id, world.alice_id))
        assert kept is not None and kept.status == "subscribed"


def test_page_button_with_all_newsletters_unsubscribes_everywhere(
    client: TestClient, world: World, engine: Engine
) -> None:
    response = client.post(world.path(Purpose.UNSUBSCRIBE), data={"scope": "all"})
    assert response.status_code == 200
    assert "You are unsubscribed" in response.text
    status, membership, source = _state(engine, world)
    assert (status, membership, source) == ("unsubscribed", "unsubscribed", "page")
    with transaction(engine) as session:
        subscriber = session.get(Subscriber, world.alice_id)
        assert subscriber is not None and subscriber.status_reason == "page"
        assert subscriber.unsubscribed_at is not None


def test_page_button_alone_leaves_the_list(
    client: TestClient, world: World, engine: Engine
) -> None:
    response = client.post(world.path(Purpose.UNSUBSCRIBE), data={})
    assert response.status_code == 200
    assert _state(engine, world) == ("active", "unsubscribed", "page")


def test_a_complaint_is_not_downgraded_by_an_unsubscribe(
    client: TestClient, world: World, engine: Engine
) -> None:
    bob = add_subscriber(engine, "bob@example.com", status="complained", list_id=world.list_id)
    client.post(world.path(Purpose.UNSUBSCRIBE, bob), data={"scope": "all"})
    assert _state(engine, world, bob)[0] == "complained"


def test_forged_expired_or_wrong_purpose_tokens_get_a_friendly_4xx(
    client: TestClient, world: World, engine: Engine
) -> None:
    good = world.token(Purpose.UNSUBSCRIBE)
    forged = good[:-2] + ("AA" if not good.endswith("AA") else "BB")
    wrong = world.token(Purpose.PREFERENCES)
    for token in (forged, wrong, "not-a-token", "x" * 300):
        for method in ("GET", "POST"):
            response = client.request(method, f"/u/{token}", data={"List-Unsubscribe": "One-Click"})
            assert response.status_code == 404, (token, method)
            assert "This link does not work" in response.text
    assert _state(engine, world) == ("active", "subscribed", None)


def test_a_deleted_subscriber_gets_404_not_500(client: TestClient, world: World) -> None:
    token = world.signer.make(Token(Purpose.UNSUBSCRIBE, 999_999, world.list_id, world.send_id))
    assert client.get(f"/u/{token}").status_code == 404
    assert client.post(f"/u/{token}", data={"List-Unsubscribe": "One-Click"}).status_code == 404


def test_oversized_or_stuffed_bodies_are_refused_politely(
    client: TestClient, world: World, engine: Engine
) -> None:
    path = world.path(Purpose.UNSUBSCRIBE)
    huge = client.post(
        path,
        content=b"List-Unsubscribe=One-Click&x=" + b"a" * 20_000,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    stuffed = client.post(
        path,
        content="&".join(f"f{n}=1" for n in range(50)).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert (huge.status_code, stuffed.status_code) == (413, 400)
    assert _state(engine, world) == ("active", "subscribed", None)


def test_the_page_form_may_come_as_multipart_too(
    client: TestClient, world: World, engine: Engine
) -> None:
    response = client.post(world.path(Purpose.UNSUBSCRIBE), files={"scope": (None, "all")})
    assert response.status_code == 200
    assert _state(engine, world) == ("unsubscribed", "unsubscribed", "page")
