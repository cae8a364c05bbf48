"""Scheduled sends go out at their time and not before, dispatched by `newsletter scheduler`;
`--local-time` gives each timezone group its own due time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from mailer.core.models import Batch
from mailer.core.settings import Settings
from tests.fixtures.audience import bulk_audience, email
from tests.fixtures.clock import advance, scheduler_checked_since
from tests.fixtures.fake_sendgrid import FakeSendGrid, fake_sendgrid
from tests.fixtures.services import RedisServer
from tests.fixtures.workers import scheduler, wait_until, workers
from tests.integration.sending_support import received, send_env, start_send, state, wait_state

pytestmark = pytest.mark.integration
# The issue says "two minutes"; any lead proves the same. Half an hour is never reached by the
# wall clock under any load: the test moves the schedule forward itself (tests/fixtures/clock.py).
AHEAD = timedelta(minutes=30)
ZONES = ("Etc/GMT-1", "UTC", "Etc/GMT+1")  # UTC+1 (east), UTC, UTC-1 (west)


def request_times(sg: FakeSendGrid, send_id: int) -> list[float]:
    def ours(entry: dict[str, Any]) -> bool:
        args = entry["personalizations"][0]["custom_args"]
        return bool(args.get("nl_send_id") == str(send_id))

    return [entry["received"] for entry in sg.requests() if ours(entry)]


def test_scheduled_and_local_time_sends_go_out_when_due_and_not_before(
    settings: Settings, engine: Engine, redis: RedisServer, workdir: Path
) -> None:
    bulk_audience(engine, 60, zones=ZONES)
    at = (datetime.now(UTC) + AHEAD).replace(microsecond=0)
    with fake_sendgrid() as sg:
        env = send_env(settings, redis, sg, SEND_BATCH_SIZE=10)
        with workers(env, workdir, count=2), scheduler(env, workdir):
            scheduled = start_send(env, workdir, "--list", "weekly", "--at", at.isoformat())
            wall = at.replace(tzinfo=None).isoformat()  # 'at' on each subscriber's own clock
            # East of UTC that wall time was half an hour ago: those readers get it at once.
            local = start_send(
                env, workdir, "--list", "weekly", "--at", wall, "--local-time", "--late-ok"
            )
            east = {email(i) for i in range(0, 60, 3)}
            wait_until(lambda: set(received(sg, local)) == east, 60, "the east group")
            # A few more periodic checks pass over both sends: nothing else is due yet.
            since = datetime.now(UTC) + timedelta(seconds=2)
            wait_until(lambda: scheduler_checked_since(engine, since), 60, "a periodic check")
            assert state(engine, scheduled) == "scheduled" and request_times(sg, scheduled) == []
            assert set(received(sg, local)) == east

            # Half an hour passes (for the schedules): 'at' is now, the west group an hour away.
            moved = datetime.now(UTC)
            advance(engine, [scheduled, local], AHEAD)
            wait_state(engine, scheduled, ("done",), timeout=90)
            assert min(request_times(sg, scheduled)) >= moved.timestamp()
            assert received(sg, scheduled) == {email(i): 1 for i in range(60)}

            utc = {email(i) for i in range(1, 60, 3)}
            wait_until(lambda: set(received(sg, local)) == east | utc, 60, "the UTC group")
            local_counts = received(sg, local)
            local_times = request_times(sg, local)
    assert min(local_times) < moved.timestamp()  # east of UTC: before 'at'
    assert set(local_counts.values()) == {1}
    with engine.connect() as conn:
        west = conn.execute(
            select(Batch.state, Batch.due_at).where(
                Batch.send_id == local, Batch.timezone == ZONES[2]
            )
        ).all()
    west_due = at - AHEAD + timedelta(hours=1)
    assert west == [("pending", west_due), ("pending", west_due)]
