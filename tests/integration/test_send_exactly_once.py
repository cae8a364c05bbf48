"""Two real Celery workers, real Redis, the real sendgrid library against the local server:
every recipient of the segment exactly once, nobody outside it, leavers skipped."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from mailer.core.settings import Settings
from mailer.sending import control as send_control
from subscribers.db import transaction
from subscribers.status import unsubscribe_everywhere, unsubscribe_from_list
from tests.fixtures.audience import bulk_audience, email, subscriber_id
from tests.fixtures.fake_sendgrid import fake_sendgrid
from tests.fixtures.services import RedisServer
from tests.fixtures.workers import workers
from tests.integration.sending_support import (
    audience_of,
    batch_seqs,
    cli,
    received,
    send_env,
    start_send,
    state,
    status_json,
    wait_state,
)

pytestmark = pytest.mark.integration


def test_every_recipient_of_the_segment_exactly_once_nobody_else_and_leavers_skipped(
    settings: Settings, engine: Engine, redis: RedisServer, workdir: Path
) -> None:
    list_id = bulk_audience(engine, 400)
    with transaction(engine) as session:  # gone before the send: never in its audience
        unsubscribe_everywhere(session, subscriber_id(engine, 1), "test")
        unsubscribe_from_list(session, subscriber_id(engine, 3), list_id, "test")
    # Slow enough answers that the pause lands mid-send even on a loaded machine.
    with fake_sendgrid(delay=1.0) as sg:
        env = send_env(settings, redis, sg, SEND_BATCH_SIZE=20)
        with workers(env, workdir, count=2):
            send_id = start_send(env, workdir, "--list", "weekly", "--segment", 'tags has "odd"')
            wait_state(engine, send_id, ("sending",), timeout=90)
            send_control.pause(engine, send_id)  # in-process: the CLI would start too slowly
            pending = batch_seqs(engine, send_id, "pending")
            frozen = audience_of(engine, send_id)
            leavers = sorted(e for e, seq in frozen.items() if seq in pending)[:3]
            assert len(leavers) == 3, "pause came too late to leave anyone behind"
            with transaction(engine) as session:  # gone after the freeze, before their batch
                for address in leavers:
                    index = int(address.removeprefix("reader").split("@")[0])
                    unsubscribe_everywhere(session, subscriber_id(engine, index), "test")
            cli(env, workdir, "resume", str(send_id))
            followed = cli(env, workdir, "status", str(send_id), "--follow")  # until it ends
            assert state(engine, send_id) == "done"
            assert "198/198" in followed.stderr  # the progress bar's last word
        counts = received(sg, send_id)
        assert sg.stats()["duplicate_recipients"] == 0
    segment = {email(i) for i in range(1, 400, 2)} - {email(1), email(3)}
    assert set(frozen) == segment
    assert set(counts) == segment - set(leavers)  # nobody outside the segment, no leaver
    assert set(counts.values()) == {1}  # and nobody twice
    report = status_json(env, workdir, send_id)
    assert report["state"] == "done"
    assert (report["total"], report["sent"], report["skipped"]) == (198, 195, 3)
