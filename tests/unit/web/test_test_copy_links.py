"""A test copy's footer links answer (200) and change nobody; its web version shows the issue."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from mailer.readers.links import TEST_SUBSCRIBER, Purpose, Token
from subscribers.models import Membership, Subscriber
from tests.unit.web.conftest import World, add_send


def test_links_of_a_test_copy_answer_and_change_nobody(
    client: TestClient, engine: Engine, world: World
) -> None:
    test_send = add_send(engine, world.list_id, test_to="me@example.net", archived=False)

    def path(purpose: Purpose, route: str) -> str:
        token = Token(purpose, TEST_SUBSCRIBER, world.list_id, test_send)
        return f"/{route}/{world.signer.make(token)}"

    for purpose, route in ((Purpose.UNSUBSCRIBE, "u"), (Purpose.PREFERENCES, "p")):
        page = client.get(path(purpose, route))
        assert page.status_code == 200, page.text
        assert "This link works: it is a test copy" in page.text
    forward = client.get(path(Purpose.FORWARD, "f"))
    assert forward.status_code == 200 and "forward the issue to friends" in forward.text
    one_click = client.post(
        path(Purpose.UNSUBSCRIBE, "u"),
        content=b"List-Unsubscribe=One-Click",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert one_click.status_code == 200 and "nothing was changed" in one_click.text
    view = client.get(path(Purpose.VIEW, "v"))
    assert view.status_code == 200 and "Hello Test, the news." in view.text
    with engine.connect() as conn:
        assert conn.scalars(select(Subscriber.status)).all() == ["active"]
        assert conn.scalars(select(Membership.status)).all() == ["subscribed"]


def test_subscriber_zero_of_a_real_send_still_finds_no_issue(
    client: TestClient, world: World
) -> None:
    token = world.signer.make(Token(Purpose.VIEW, TEST_SUBSCRIBER, world.list_id, world.send_id))
    assert client.get(f"/v/{token}").status_code == 404
