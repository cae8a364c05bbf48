"""Heartbeats: `doctor` and `status` notice a missing or stale scheduler and workers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from typer.testing import CliRunner

from mailer.cli.main import app
from mailer.core.settings import Settings
from mailer.ops import liveness
from mailer.ops.doctor import Level
from mailer.sending.attention import send_status
from mailer.sending.create import check_audience, create_send
from tests.unit.sending.helpers import ISSUE, T0, seed


def test_doctor_names_a_missing_scheduler_no_worker_and_a_stale_one(
    engine: Engine, settings: Settings
) -> None:
    cfg = settings.model_copy(update={"REDIS_URL": "redis://127.0.0.1:1/0"})
    nothing = liveness.liveness_checks(engine, cfg, T0)
    assert [(c.name, c.status) for c in nothing] == [
        ("scheduler", Level.WARN),
        ("workers", Level.WARN),
    ]
    assert nothing[0].detail.startswith("never heard from")
    assert nothing[1].detail == "no worker alive: nothing is sent, no webhook event is applied"

    liveness.beat(engine, "w1@box", liveness.WORKER, T0, "events,messages,sends")
    liveness.beat(engine, "w2@box", liveness.WORKER, T0 - timedelta(seconds=100))
    liveness.beat(engine, liveness.SCHEDULER, liveness.SCHEDULER, T0 - timedelta(seconds=5))
    scheduler, workers = liveness.liveness_checks(engine, cfg, T0)
    assert (scheduler.status, scheduler.detail) == (
        Level.OK,
        "periodic check ran 5 s ago (expected every 15 s)",
    )
    assert workers.status is Level.WARN
    assert workers.detail == (
        "1 alive: w1@box (events,messages,sends); stale: w2@box (last heard 100 s ago)"
    )
    liveness.forget(engine, "w2@box")
    assert liveness.liveness_checks(engine, cfg, T0)[1].status is Level.OK
    later = T0 + timedelta(minutes=10)
    stale = liveness.liveness_checks(engine, cfg, later)[0]
    assert stale.detail.startswith("stale: the periodic check last ran 10 min ago")


def test_without_redis_no_worker_is_expected(engine: Engine, settings: Settings) -> None:
    workers = liveness.liveness_checks(engine, settings, T0)[1]
    assert (workers.status, workers.detail) == (
        Level.OK,
        "none needed: REDIS_URL is unset, tasks run in-process",
    )


def test_doctor_json_carries_scheduler_and_workers(engine: Engine, settings: Settings) -> None:
    result = CliRunner().invoke(app, ["doctor", "--json"])
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["scheduler"]["status"] == "WARN"
    assert "never heard from" in checks["scheduler"]["detail"]
    assert checks["workers"]["status"] == "OK"


def test_status_warns_of_a_scheduled_send_past_due_with_no_scheduler(
    engine: Engine, settings: Settings
) -> None:
    seed(engine, 3)
    list_id, _ = check_audience(engine, "weekly", None)
    due = datetime.now(UTC) - timedelta(minutes=5)
    send_id = create_send(engine, settings, ISSUE, list_id, None, None, False, due)

    result = CliRunner().invoke(app, ["status", str(send_id)])
    assert result.exit_code == 0, result.output
    # Before: only "send 1: scheduled" and the UTC instant, nothing about the missing scheduler.
    assert (
        "warning: due 5 min ago but no scheduler is running (last heard from: never); "
        "start `newsletter scheduler` and it goes out" in " ".join(result.output.split())
    )
    now = due + timedelta(minutes=5)
    liveness.beat(engine, liveness.SCHEDULER, liveness.SCHEDULER, now - timedelta(minutes=2))
    assert "last heard from: 2 min ago" in send_status(engine, settings, send_id, now).notes[0]
    liveness.beat(engine, liveness.SCHEDULER, liveness.SCHEDULER, now)
    assert send_status(engine, settings, send_id, now).notes == []
    soon = create_send(  # the same issue again on purpose: this test is about the scheduler
        engine, settings, ISSUE, list_id, None, None, False, now + timedelta(hours=1), again=True
    )
    liveness.forget(engine, liveness.SCHEDULER)
    assert send_status(engine, settings, soon, now).notes == []  # not due yet: no warning
