"""10. A deleted reader's links stop working, even when SQLite hands their id to someone new."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from mailer.readers.links import Purpose
from subscribers.db import transaction
from subscribers.models import Membership, Subscriber
from tests.unit.web.conftest import World, add_subscriber


@pytest.mark.parametrize(
    "purpose", [Purpose.UNSUBSCRIBE, Purpose.PREFERENCES, Purpose.FORWARD, Purpose.VIEW]
)
def test_old_links_do_not_act_on_the_next_person_with_the_same_id(
    client: TestClient, world: World, engine: Engine, purpose: Purpose
) -> None:
    bob = add_subscriber(engine, "bob@example.com", "Bob", list_id=world.list_id)
    old_path = world.path(purpose, bob)
    assert client.get(old_path).status_code == 200
    with transaction(engine) as session:
        session.delete(session.get(Subscriber, bob))
    if engine.dialect.name == "sqlite":
        carol = add_subscriber(engine, "carol@example.com", "Carol", list_id=world.list_id)
        assert carol == bob  # the id really came back
    else:
        with transaction(engine) as session:  # PostgreSQL never reuses ids: do it as SQLite does
            session.add(
                Subscriber(id=bob, email="carol@example.com", email_norm="carol@example.com")
            )
            session.flush()
            session.add(Membership(list_id=world.list_id, subscriber_id=bob))
    page = client.get(old_path)
    assert page.status_code == 404 and "carol" not in page.text.lower()
    if purpose is Purpose.UNSUBSCRIBE:
        assert client.post(old_path, data={"List-Unsubscribe": "One-Click"}).status_code == 404
