"""7. The answer never waits for mail: the request writes an outbox row, and the mail goes
after the response (eager mode) or from a worker; a lost queue is re-dispatched by the beat."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import httpx
from _pytest.monkeypatch import MonkeyPatch
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from mailer.core.models import OutboxMessage
from mailer.core.settings import Settings
from mailer.readers import outbox as message_outbox
from mailer.tasks import messages
from mailer.tasks.app import worker_settings
from mailer.tasks.messages import redispatch
from subscribers.db import transaction
from subscribers.models import utcnow
from tests.fixtures.fake_sendgrid import fake_sendgrid
from tests.security.helpers import csrf_field, serving, signup
from tests.unit.web.conftest import World, add_subscriber, outbox


def test_signup_request_only_writes_an_outbox_row_before_answering(
    client: TestClient, world: World, engine: Engine, workdir: Path, monkeypatch: MonkeyPatch
) -> None:
    at_dispatch: list[tuple[int, int]] = []
    original = messages.dispatch

    def watched(bound: Engine, ids: list[int]) -> None:
        # What exists when the queueing starts: the row, and no mail yet.
        with transaction(bound) as session:
            unsent = session.scalars(select(OutboxMessage).where(OutboxMessage.sent_at.is_(None)))
            at_dispatch.append((len(list(unsent)), len(outbox(workdir))))
        original(bound, ids)

    monkeypatch.setattr(messages, "dispatch", watched)
    assert signup(client, "new@example.com").status_code == 200
    assert at_dispatch == [(1, 0)]
    assert [m["To"] for m in outbox(workdir)] == ["new@example.com"]
    with transaction(engine) as session:
        row = session.scalars(select(OutboxMessage)).one()
        assert row.kind == "confirm" and row.sent_at is not None


def test_known_and_new_addresses_take_the_same_time(
    web_settings: Settings, world: World, engine: Engine
) -> None:
    """Over a real server: the answer goes before the mail (a test client would wait for the
    background work, which is exactly what a browser does not)."""
    add_subscriber(engine, "known@example.com", list_id=world.list_id)
    took: dict[str, list[float]] = {"known": [], "new": []}
    port_env = {"SIGNUP_IP_LIMIT_PER_HOUR": "1000"}
    with serving(**port_env) as port, httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
        for n in range(9):  # interleaved, so load on the machine hits both alike
            for kind, address in (("known", "known@example.com"), ("new", f"new{n}@example.com")):
                data = {"csrf_token": csrf_field(client.get("/subscribe").text), "email": address}
                started = time.perf_counter()
                assert client.post("/subscribe", data=data).status_code == 200
                took[kind].append(time.perf_counter() - started)
                time.sleep(0.2)  # the mail of a new address is sent meanwhile, not in the answer
    known, new = (sorted(took[kind])[4] for kind in ("known", "new"))
    # Before the outbox, the mail was inside the answer: ~10 ms against ~170 ms.
    assert abs(new - known) < 0.05, (known, new)


def test_a_message_whose_task_was_lost_is_sent_by_the_sweep(
    web_settings: Settings, world: World, engine: Engine, workdir: Path
) -> None:
    alice_row = None
    with transaction(engine) as session:
        alice_row = message_outbox.add_confirmation(session, world.alice_id, world.list_id)
        alice_row.dispatched_at = utcnow() - timedelta(hours=1)  # queued, then Redis restarted
        message_id = alice_row.id
    assert redispatch.run() == 1
    assert [m["To"] for m in outbox(workdir)] == ["Alice@Example.com"]
    with transaction(engine) as session:
        assert session.get(OutboxMessage, message_id).sent_at is not None  # type: ignore[union-attr]
    assert redispatch.run() == 0


def test_a_refused_forward_keeps_its_error_but_not_the_friends_address(
    world: World, engine: Engine, monkeypatch: MonkeyPatch
) -> None:
    """The local SendGrid server refuses the first request (400): the row records why, is not
    re-queued, and keeps only the keyed hash of the friend's address."""
    with fake_sendgrid(fail_nth=(1,)) as sendgrid:
        monkeypatch.setenv("SENDGRID_API_KEY", sendgrid.api_key)
        monkeypatch.setenv("SENDGRID_API_HOST", sendgrid.url)
        worker_settings.cache_clear()
        with transaction(engine) as session:
            row = message_outbox.add_forward(
                session, world.send_id, world.alice_id, "ann@example.org", "hi"
            )
            message_id = row.id
        messages.dispatch(engine, [message_id])
        worker_settings.cache_clear()
    with transaction(engine) as session:
        failed = session.get(OutboxMessage, message_id)
        assert failed is not None and failed.sent_at is None and failed.error
        assert failed.attempts == message_outbox.MAX_ATTEMPTS
        assert "ann@example.org" not in str(failed.args) and failed.args["friend_hash"]
        later = utcnow() + timedelta(hours=1)
        assert message_outbox.stale(session, later, timedelta(minutes=10)) == []
