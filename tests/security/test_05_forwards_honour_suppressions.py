"""5. Friends who opted out are not mailed again; only active readers can forward."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from mailer.core.settings import Settings
from mailer.web.app import create_app
from subscribers.db import transaction
from subscribers.models import Status, Subscriber
from tests.security.helpers import forward
from tests.unit.events.helpers import Signer, body_of, event
from tests.unit.web.conftest import World, add_send, add_subscriber, outbox


def _report(web_settings: Settings, kind: str, email: str, send_id: int, **fields: str) -> None:
    """SendGrid tells us, through the signed webhook, what the forwarded copy did."""
    signer = Signer()
    hooked = web_settings.model_copy(update={"SENDGRID_WEBHOOK_PUBLIC_KEY": signer.public_key})
    args = {"nl_kind": "forward", "nl_forward_send_id": str(send_id)}
    body = body_of([event(kind, email, **args, **fields)])
    with TestClient(create_app(hooked)) as hook:
        response = hook.post("/webhooks/sendgrid", content=body, headers=signer.headers(body))
        assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("kind", "fields"),
    [("spamreport", {}), ("bounce", {"type": "bounce"}), ("unsubscribe", {})],
)
def test_a_friend_who_complained_or_bounced_is_not_mailed_again(
    client: TestClient,
    world: World,
    engine: Engine,
    workdir: Path,
    web_settings: Settings,
    kind: str,
    fields: dict[str, str],
) -> None:
    assert forward(client, world, "ann@example.org").status_code == 200
    _report(web_settings, kind, "ann@example.org", world.send_id, **fields)
    other = add_send(engine, world.list_id, slug="issue-8")
    page = forward(
        client, World(world.signer, world.list_id, other, world.alice_id, engine), "ann@example.org"
    )
    assert page.status_code == 200  # the page says nothing about the friend
    assert [m["To"] for m in outbox(workdir)] == ["ann@example.org"]


@pytest.mark.parametrize("status", [Status.UNSUBSCRIBED, Status.BOUNCED, Status.COMPLAINED])
def test_suppressed_subscribers_are_not_mailed_as_friends(
    client: TestClient, world: World, engine: Engine, workdir: Path, status: Status
) -> None:
    add_subscriber(engine, "gone@example.com", status=status)
    assert forward(client, world, "gone@example.com").status_code == 200
    assert outbox(workdir) == []


@pytest.mark.parametrize("status", [Status.UNSUBSCRIBED, Status.BOUNCED, Status.COMPLAINED])
def test_only_active_readers_can_forward(
    client: TestClient, world: World, engine: Engine, workdir: Path, status: Status
) -> None:
    with transaction(engine) as session:
        session.get(Subscriber, world.alice_id).status = status  # type: ignore[union-attr]
    page = forward(client, world, "ann@example.org")
    assert page.status_code == 403
    assert outbox(workdir) == []
    assert json.dumps(page.text)  # a page, not a traceback
