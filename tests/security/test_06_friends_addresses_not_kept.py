"""6. "We keep no copy of their addresses": not in events, webhook bodies, or the outbox."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from mailer.core.settings import Settings
from mailer.web.app import create_app
from tests.security.helpers import forward
from tests.unit.events.helpers import Signer, body_of, event
from tests.unit.web.conftest import World

FRIEND = "ann.friend@example.org"


def _everything_stored(engine: Engine) -> str:
    """Every text the database holds, table by table (small test databases only)."""
    dump: list[str] = []
    with engine.connect() as conn:
        for table in (
            "events",
            "webhook_posts",
            "outbox_messages",
            "forwards",
            "forward_recipients",
            "address_suppressions",
            "subscribers",
        ):
            dump.extend(str(row) for row in conn.execute(text(f"SELECT * FROM {table}")))
    return "\n".join(dump).lower()


def test_no_friend_address_is_stored_after_delivery_and_events(
    client: TestClient, world: World, engine: Engine, workdir: Path, web_settings: Settings
) -> None:
    assert forward(client, world, FRIEND).status_code == 200
    signer = Signer()
    hooked = web_settings.model_copy(update={"SENDGRID_WEBHOOK_PUBLIC_KEY": signer.public_key})
    args = {"nl_kind": "forward", "nl_forward_send_id": str(world.send_id)}
    events = [
        event(kind, FRIEND, **args) for kind in ("processed", "delivered", "open", "spamreport")
    ]
    body = body_of(events)
    with TestClient(create_app(hooked)) as hook:
        assert (
            hook.post("/webhooks/sendgrid", content=body, headers=signer.headers(body)).status_code
            == 200
        )
    stored = _everything_stored(engine)
    assert "ann.friend" not in stored and "example.org" not in stored
    # The events are still there, under the keyed hash of the address.
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM events")).scalar() == 4
