"""8. A subscriber's name is escaped where it meets HTML (the web version of an issue)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from mailer.readers.links import Purpose
from subscribers.db import transaction
from subscribers.models import Subscriber
from tests.unit.web.conftest import World


def test_name_in_the_web_version_is_escaped(
    client: TestClient, world: World, engine: Engine
) -> None:
    with transaction(engine) as session:
        alice = session.get(Subscriber, world.alice_id)
        assert alice is not None
        alice.name = (
            '<img src=x onerror=alert(1)><meta http-equiv="refresh" content="0;url=//e.vil">'
        )
    page = client.get(world.path(Purpose.VIEW))
    assert page.status_code == 200
    assert "<img src=x" not in page.text and "<meta http-equiv" not in page.text
    assert "img src=x onerror=alert(1)" in page.text.replace("&lt;", "")
