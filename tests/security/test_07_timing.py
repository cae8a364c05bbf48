"""7. The answer never waits for mail: the request writes an outbox row, and the mail goes
after the response (eager mode) or from a worker; a lost queue is re-dispatched by the beat."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

from _pytest.monkeypatch import MonkeyPatch
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from mailer.core.models import OutboxMessage
from mailer.core.settings import Settings
from mailer.readers import outbox as message_outbox
from mailer.tasks import messages
from mailer.tasks.messages import redispatch
from subscribers.db import transaction
from subscribers.models import utcnow
from tests.security.helpers import signup
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
    client: TestClient, world: World, engine: Engine
) -> None:
    add_subscriber(engine, "known@example.com", list_id=world.list_id)

    def median(email_for: object) -> float:
        times = []
        for n in range(7):
            address = str(email_for).format(n)
            started = time.perf_counter()
            signup(client, address)
            times.append(time.perf_counter() - started)
        return sorted(times)[3]

    known, new = median("known@example.com"), median("new{}@example.com")
    # form_token's GET is part of both; the mail itself is no longer inside the request.
    assert abs(new - known) < 0.05


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
