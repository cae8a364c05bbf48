"""Real worker and scheduler processes record heartbeats; a killed worker goes stale, a stopped
one disappears, and `doctor` says which."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from mailer.core.models import Heartbeat
from mailer.core.settings import Settings
from tests.fixtures.fake_sendgrid import fake_sendgrid
from tests.fixtures.services import RedisServer
from tests.fixtures.workers import scheduler, wait_until, workers
from tests.integration.sending_support import cli, send_env

pytestmark = pytest.mark.integration


def beats(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        return dict(conn.execute(select(Heartbeat.name, Heartbeat.role)).all())


def doctor(env: dict[str, str], cwd: Path) -> dict[str, Any]:
    out = cli(env, cwd, "doctor", "--json", check=False).stdout
    return {c["name"]: c for c in json.loads(out)["checks"]}


def test_workers_and_scheduler_beat_and_doctor_tells_alive_from_stale(
    settings: Settings, engine: Engine, redis: RedisServer, workdir: Path
) -> None:
    with fake_sendgrid() as sg:
        env = send_env(settings, redis, sg, HEARTBEAT_SECONDS=0.5)
        w1 = f"w1@{socket.gethostname()}"
        with workers(env, workdir, count=2) as pool, scheduler(env, workdir):
            wait_until(lambda: len(beats(engine)) == 3, 30, "two workers and the scheduler")
            alive = doctor(env, workdir)
            pool[0].kill()  # SIGKILL: no goodbye, the row stays and goes stale
            wait_until(lambda: "stale" in doctor(env, workdir)["workers"]["detail"], 30, "stale")
            stale = doctor(env, workdir)["workers"]
            pool[1].stop()  # a clean stop removes its row
            wait_until(lambda: f"w2@{socket.gethostname()}" not in beats(engine), 10, "w2 gone")
    assert beats(engine)[w1] == "worker" and beats(engine)["scheduler"] == "scheduler"
    assert alive["workers"]["status"] == "OK" and alive["workers"]["detail"].startswith("2 alive")
    assert "sends" in alive["workers"]["detail"]
    assert alive["scheduler"]["status"] == "OK"
    assert stale["status"] == "WARN"
    assert f"stale: {w1} (last heard" in stale["detail"] and stale["detail"].startswith("1 alive")
