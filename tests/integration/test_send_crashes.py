"""A worker killed with SIGKILL at three moments of a send: after a restart every recipient is
mailed exactly once, except recipients of batches reported `uncertain` (at most once)."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
import redis as redis_lib
from sqlalchemy import Engine, select

from mailer.core.models import Batch
from mailer.core.settings import Settings
from tests.fixtures.audience import bulk_audience, email
from tests.fixtures.fake_sendgrid import FakeSendGrid, fake_sendgrid
from tests.fixtures.services import RedisServer
from tests.fixtures.workers import Worker, scheduler, wait_until, workers
from tests.integration.sending_support import (
    audience_of,
    batch_seqs,
    cli,
    received,
    send_env,
    start_send,
    state,
    wait_state,
)

pytestmark = pytest.mark.integration
REQUEST_SECONDS = 1.0  # the local server answers every request after this long


def held_by(engine: Engine, send_id: int, pid: int, requested: bool) -> int | None:
    """The seq of a batch that worker `pid` has claimed, before or after starting its request."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(Batch.seq, Batch.worker_id, Batch.requested_at).where(
                Batch.send_id == send_id, Batch.state == "claimed"
            )
        ).all()
    for seq, worker_id, requested_at in rows:
        mine = worker_id is not None and worker_id.split(":")[1] == str(pid)
        if mine and (requested_at is not None) == requested:
            return int(seq)
    return None


def requested(engine: Engine, send_id: int, seq: int) -> bool:
    with engine.connect() as conn:
        stamp = conn.scalar(
            select(Batch.requested_at).where(Batch.send_id == send_id, Batch.seq == seq)
        )
    return stamp is not None


def kill_holding(engine: Engine, send_id: int, worker: Worker, in_request: bool) -> int:
    """SIGKILL `worker` while it holds a claim in that phase; restart it; the batch's seq.
    The phase is checked again after the kill, since the worker may have moved on meanwhile."""
    for _ in range(5):
        wait_until(
            lambda: held_by(engine, send_id, worker.pid, in_request) is not None, 60, "claim"
        )
        seq = held_by(engine, send_id, worker.pid, in_request)
        worker.kill()
        worker.start()
        if seq is not None and requested(engine, send_id, seq) == in_request:
            return seq
    raise AssertionError("never caught the worker in that phase")


def server_has_any(sg: FakeSendGrid, send_id: int, emails: set[str], within: float) -> bool:
    try:
        wait_until(lambda: bool(emails & set(received(sg, send_id))), within, "acceptance")
    except TimeoutError:
        return False
    return True


def freeze_after_answer(engine: Engine, send_id: int, worker: Worker, sg: FakeSendGrid) -> int:
    """SIGSTOP `worker` in a request, let the server accept it, then SIGKILL: the answer is
    lost with no record. Retried if the worker was stopped before its request left."""
    for _ in range(5):
        wait_until(lambda: held_by(engine, send_id, worker.pid, True) is not None, 60, "request")
        seq = held_by(engine, send_id, worker.pid, True)
        worker.signal(signal.SIGSTOP)
        batch = {a for a, s in audience_of(engine, send_id).items() if s == seq}
        accepted = server_has_any(sg, send_id, batch, within=REQUEST_SECONDS + 3)
        worker.kill()
        worker.start()
        if accepted and seq is not None:
            return seq
    raise AssertionError("never caught the worker between the answer and its record")


def test_workers_killed_mid_send_never_duplicate_or_drop_anyone(
    settings: Settings, engine: Engine, redis: RedisServer, workdir: Path
) -> None:
    bulk_audience(engine, 400)
    with fake_sendgrid(delay=REQUEST_SECONDS) as sg:
        env = send_env(
            settings,
            redis,
            sg,
            SEND_BATCH_SIZE=20,
            SEND_PARALLELISM=6,
            SEND_RATE_PER_SECOND=20,  # a 20-recipient batch waits ~1 s between claim and request
            SENDGRID_TIMEOUT_SECONDS=5,
            BATCH_LEASE_SECONDS=8,  # above the request timeout: only dead workers' claims expire
        )
        with workers(env, workdir, count=2) as (w1, w2), scheduler(env, workdir):
            send_id = start_send(env, workdir, "--list", "weekly")
            seen: dict[str, int] = {}

            # 1. claimed, waiting for rate tokens, request not started: released, sent later.
            seen["before request"] = kill_holding(engine, send_id, w1, in_request=False)

            # 2. in the middle of a slow request: uncertain.
            seen["during request"] = kill_holding(engine, send_id, w1, in_request=True)

            # 3. the server accepted, the worker never recorded it: uncertain.
            seen["after request"] = freeze_after_answer(engine, send_id, w2, sg)

            wait_state(engine, send_id, ("done", "failed"), timeout=120)
            counts = received(sg, send_id)
            status_text = cli(env, workdir, "status", str(send_id)).stdout
    uncertain = batch_seqs(engine, send_id, "uncertain")
    assert seen["before request"] not in uncertain  # never requested: safely sent again
    assert {seen["during request"], seen["after request"]} <= uncertain
    audience = audience_of(engine, send_id)
    assert set(audience) == {email(i) for i in range(400)}
    assert set(counts) <= set(audience)
    for address, seq in audience.items():
        if seq in uncertain:
            assert counts[address] <= 1, address
        else:
            assert counts[address] == 1, address
    assert all(counts[a] == 1 for a, seq in audience.items() if seq == seen["after request"])
    assert "uncertain" in status_text and "resend-uncertain" in status_text


def test_a_redis_restart_that_loses_the_queue_mid_send_neither_duplicates_nor_drops(
    settings: Settings, engine: Engine, redis: RedisServer, workdir: Path
) -> None:
    bulk_audience(engine, 300)
    with fake_sendgrid(delay=0.3) as sg:
        env = send_env(settings, redis, sg, SEND_BATCH_SIZE=10)
        with workers(env, workdir, count=2), scheduler(env, workdir):
            send_id = start_send(env, workdir, "--list", "weekly")
            wait_until(lambda: len(batch_seqs(engine, send_id, "sent")) >= 3, 60, "first batches")
            redis.restart()
            redis_lib.Redis.from_url(redis.url).flushall()  # every queued task is gone
            wait_state(engine, send_id, ("done", "failed"), timeout=120)
            counts = received(sg, send_id)
    assert counts == {email(i): 1 for i in range(300)}
    assert state(engine, send_id) == "done"
