"""14. Opening a confirmation link (a mail scanner does) changes nothing; the button confirms."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from mailer.readers.links import Purpose
from subscribers.db import transaction
from subscribers.models import Status, Subscriber
from tests.unit.web.conftest import World, add_subscriber, form_token


def test_get_shows_a_button_and_post_confirms(
    client: TestClient, world: World, engine: Engine
) -> None:
    ann = add_subscriber(engine, "ann@example.com", status=Status.PENDING)
    path = world.path(Purpose.CONFIRM, ann, issued_at=int(time.time()))
    shown = client.get(path)
    assert shown.status_code == 200 and "<button" in shown.text and 'method="post"' in shown.text
    with transaction(engine) as session:
        assert session.get(Subscriber, ann).status == Status.PENDING  # type: ignore[union-attr]
    done = client.post(path, data={"csrf_token": form_token(client, path)})
    assert done.status_code == 200 and "You are subscribed" in done.text
    with transaction(engine) as session:
        assert session.get(Subscriber, ann).status == Status.ACTIVE  # type: ignore[union-attr]


def test_post_without_the_page_form_is_refused(
    client: TestClient, world: World, engine: Engine
) -> None:
    ann = add_subscriber(engine, "ann@example.com", status=Status.PENDING)
    path = world.path(Purpose.CONFIRM, ann, issued_at=int(time.time()))
    assert client.post(path, data={}).status_code == 400
    with transaction(engine) as session:
        assert session.get(Subscriber, ann).status == Status.PENDING  # type: ignore[union-attr]
