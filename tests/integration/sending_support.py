"""What the send integration tests share: the environment, the CLI, and reading results."""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import redis as redis_lib
from sqlalchemy import Engine, select

from mailer.core.models import Batch, Send, SendRecipient
from mailer.core.settings import Settings
from tests.fixtures.fake_sendgrid import FakeSendGrid
from tests.fixtures.services import RedisServer
from tests.fixtures.workers import NEWSLETTER, REPO, service_env, wait_until

ISSUE = REPO / "examples" / "issues" / "2026-11-30-weekly.md"


def send_env(
    settings: Settings, redis: RedisServer, sg: FakeSendGrid, **extra: object
) -> dict[str, str]:
    """The environment of workers, scheduler and CLI: real Redis, the local SendGrid server."""
    redis_lib.Redis.from_url(redis.url).flushall()  # no task of an earlier test lingers
    values = {
        "DATABASE_URL": settings.DATABASE_URL,
        "SECRET_KEY": settings.SECRET_KEY,
        "PUBLIC_BASE_URL": settings.PUBLIC_BASE_URL,
        "POSTAL_ADDRESS": settings.POSTAL_ADDRESS,
        "REDIS_URL": redis.url,
        "SENDGRID_API_KEY": sg.api_key,
        "SENDGRID_API_HOST": sg.url,
        "SENDGRID_TIMEOUT_SECONDS": "5",
        "SEND_RETRY_BASE_SECONDS": "0.2",
        "SEND_RETRY_MAX_SECONDS": "2",
        "SCHEDULER_INTERVAL_SECONDS": "1",
    }
    values.update({key: str(value) for key, value in extra.items()})
    return values


def cli(
    env: dict[str, str], cwd: Path, *args: str, check: bool = True
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [NEWSLETTER, *args],
        env=service_env(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"newsletter {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
        )
    return result


def start_send(env: dict[str, str], cwd: Path, *args: str) -> int:
    """`newsletter send` without its questions: these tests send one issue many times on purpose."""
    out = cli(env, cwd, "send", str(ISSUE), "--yes", "--again", *args)
    return int(out.stdout.split()[0])


def state(engine: Engine, send_id: int) -> str:
    with engine.connect() as conn:
        return str(conn.scalar(select(Send.state).where(Send.id == send_id)))


def wait_state(engine: Engine, send_id: int, states: tuple[str, ...], timeout: float) -> None:
    wait_until(lambda: state(engine, send_id) in states, timeout, f"send {send_id} in {states}")


def status_json(env: dict[str, str], cwd: Path, send_id: int) -> dict[str, Any]:
    return dict(json.loads(cli(env, cwd, "status", str(send_id), "--json").stdout))


def received(sg: FakeSendGrid, send_id: int) -> Counter[str]:
    """How many times the local SendGrid server accepted each address for this send."""
    return Counter(
        r["email"]
        for r in sg.recipients()
        if (r["custom_args"] or {}).get("nl_send_id") == str(send_id)
    )


def audience_of(engine: Engine, send_id: int) -> dict[str, int]:
    """Frozen audience: email -> batch seq."""
    from subscribers.models import Subscriber

    with engine.connect() as conn:
        rows = conn.execute(
            select(Subscriber.email, SendRecipient.batch_seq)
            .join(Subscriber, Subscriber.id == SendRecipient.subscriber_id)
            .where(SendRecipient.send_id == send_id)
        ).all()
    return {email: seq for email, seq in rows}


def batch_seqs(engine: Engine, send_id: int, state_name: str) -> set[int]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(Batch.seq).where(Batch.send_id == send_id, Batch.state == state_name)
        ).scalars()
        return set(rows)
