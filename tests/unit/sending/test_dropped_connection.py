"""A connection dropped after SendGrid took the request leaves the batch `uncertain`, once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from mailer.core.settings import Settings
from mailer.sending import control as send_control
from mailer.sending.pipeline import Runtime, run_send
from mailer.transport.fake_faults import Faults
from mailer.transport.fake_sendgrid import FakeSendGrid
from mailer.transport.sendgrid import SendGridTransport
from tests.unit.sending.helpers import Clock, started


@pytest.fixture
def server() -> Iterator[FakeSendGrid]:
    """The local SendGrid server in a thread of this process."""
    sg = FakeSendGrid(0)
    sg.start_in_thread()
    yield sg
    sg.shutdown()
    sg.server_close()


def test_a_batch_whose_answer_was_lost_is_uncertain_and_not_sent_again(
    engine: Engine, settings: Settings, server: FakeSendGrid
) -> None:
    send_id, cfg = started(engine, settings, 30)
    rt = Runtime(engine, SendGridTransport("SG.test", server.url, 5.0), cfg, clock=Clock())

    run_send(rt, send_id, max_batches=1)
    server.faults = Faults(drop_after_accept=1.0)  # accepted, then the connection drops
    run_send(rt, send_id, max_batches=1)
    server.faults = Faults()
    run_send(rt, send_id)

    progress = send_control.progress(engine, send_id)
    # Before: the batch went back to pending and was requested again (20 people twice).
    assert (progress.state, progress.sent, progress.uncertain) == ("done", 20, 10)
    assert server.store.stats()["mail_send_requests"] == 3
    assert "after the request was sent" in progress.errors[0]["error"]
