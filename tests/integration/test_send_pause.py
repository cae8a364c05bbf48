"""A paused send costs nothing: its runners stop (no task loop), and `resume` re-queues them.

Before the fix a paused send's runner found nothing claimable, saw pending batches "claimable
in 0 s" and queued itself again at once: thousands of `send_batches` tasks a second.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import Engine

from mailer.core.settings import Settings
from tests.fixtures.audience import bulk_audience, email
from tests.fixtures.fake_sendgrid import fake_sendgrid
from tests.fixtures.services import RedisServer
from tests.fixtures.workers import Worker, wait_until, workers
from tests.integration.sending_support import (
    batch_seqs,
    cli,
    received,
    send_env,
    start_send,
    wait_state,
)

pytestmark = pytest.mark.integration
PAUSED_SECONDS = 3.0


def runs(pool: list[Worker]) -> int:
    """`send_batches` tasks the workers have received so far (Celery logs each at INFO)."""
    return sum(w.output().count("mailer.tasks.sending.send_batches[") for w in pool) // 2


def test_a_paused_send_queues_no_tasks_and_resume_finishes_it(
    settings: Settings, engine: Engine, redis: RedisServer, workdir: Path
) -> None:
    bulk_audience(engine, 1000)
    with fake_sendgrid(delay=0.3) as sg:
        env = send_env(settings, redis, sg, SEND_BATCH_SIZE=10)
        with workers(env, workdir, count=2) as pool:
            send_id = start_send(env, workdir, "--list", "weekly")
            wait_until(lambda: len(batch_seqs(engine, send_id, "sent")) >= 3, 60, "3 batches")
            assert "paused" in cli(env, workdir, "pause", str(send_id)).stdout
            time.sleep(1.0)  # batches in flight at the pause finish
            before, sent_before = runs(pool), len(batch_seqs(engine, send_id, "sent"))
            time.sleep(PAUSED_SECONDS)
            during, sent_during = runs(pool) - before, len(batch_seqs(engine, send_id, "sent"))

            assert "sending" in cli(env, workdir, "resume", str(send_id)).stdout
            wait_state(engine, send_id, ("done",), timeout=90)
            counts = received(sg, send_id)
    assert sent_during == sent_before < 90  # nothing went out while paused
    assert during <= 2, f"{during} send_batches tasks ran in {PAUSED_SECONDS}s while paused"
    assert counts == {email(i): 1 for i in range(1000)}
