"""The production topology run natively: every process of docker-compose.yml as its own process.

PostgreSQL, Redis, `newsletter serve`, two `newsletter worker` processes and `newsletter
scheduler`, against the local SendGrid server (slowed down, so "mid-send" is real). What must
hold: a scheduled send goes out through the scheduler; a one-click unsubscribe mid-send stops
that person's copy; signed webhook events suppress a bouncer; workers stopped with SIGTERM or
killed outright lose nothing and send nothing twice; the status and report add up.
"""

from __future__ import annotations

import base64
import csv
import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import Engine, select, text

from mailer.core.models import SendRecipient
from mailer.core.settings import Settings
from mailer.readers.links import Purpose, Signer, Token
from subscribers.db import make_engine
from subscribers.models import MailingList, Subscriber
from tests.fixtures.clock import advance
from tests.fixtures.fake_sendgrid import FakeSendGrid, fake_sendgrid
from tests.fixtures.services import (
    PostgresCluster,
    RedisServer,
    free_port,
    postgres_cluster,
    redis_server,
)

pytestmark = [pytest.mark.integration, pytest.mark.postgresql]

NEWSLETTER = str(Path(sys.executable).parent / "newsletter")
SECRET_KEY = "production-test-secret-key-0123456789abcdef"
BATCH_SIZE = 4
READERS = 40  # 10 batches of 4
LEAD = timedelta(minutes=30)  # a scheduled send's lead: never reached by the wall clock
ISSUE = """---
subject: Production test issue
preheader: Sent by many processes
---
Hello -subscriber_name-, this is the production test.

## Section
Some text with a [link](https://example.org/article).
"""
_databases = itertools.count()


# --- processes ------------------------------------------------------------------------------


@dataclass
class Deployment:
    """The environment every `newsletter` process of one test shares, and the processes."""

    workdir: Path
    env: dict[str, str]
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def run(self, *args: str) -> str:
        result = subprocess.run(
            [NEWSLETTER, *args],
            cwd=self.workdir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, f"newsletter {' '.join(args)}: {result.stderr}"
        return result.stdout

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "--json"))

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        """A long-running process in its own process group, its output in NAME.log."""
        log = (self.workdir / f"{name}.log").open("ab")
        process = subprocess.Popen(
            [NEWSLETTER, *args],
            cwd=self.workdir,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes[name] = process
        return process

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(20)

    def logs(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-4000:]}"
            for path in sorted(self.workdir.glob("*.log"))
        )


def wait_until(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture(scope="module")
def pg() -> Iterator[PostgresCluster]:
    with postgres_cluster() as cluster:
        yield cluster


@pytest.fixture(scope="module")
def redis() -> Iterator[RedisServer]:
    with redis_server() as server:
        yield server


@pytest.fixture
def sendgrid() -> Iterator[FakeSendGrid]:
    # Each request takes a while, so a send of several batches is in flight for seconds.
    with fake_sendgrid(api_key=FakeSendGrid.api_key, delay=0.6) as server:
        yield server


@dataclass
class WebhookKey:
    private: ec.EllipticCurvePrivateKey

    @property
    def public_b64(self) -> str:
        der = self.private.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return base64.b64encode(der).decode()

    def headers(self, body: bytes) -> dict[str, str]:
        """What SendGrid adds: an ECDSA P-256 signature over timestamp + raw body."""
        stamp = str(int(time.time()))
        signature = self.private.sign(stamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        return {
            "Content-Type": "application/json",
            "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
            "X-Twilio-Email-Event-Webhook-Timestamp": stamp,
        }


@pytest.fixture
def deployment(
    tmp_path: Path, pg: PostgresCluster, redis: RedisServer, sendgrid: FakeSendGrid
) -> Iterator[tuple[Deployment, WebhookKey]]:
    number = next(_databases)
    name = f"prod{number}"
    admin = make_engine(pg.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    key = WebhookKey(ec.generate_private_key(ec.SECP256R1()))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in Settings.model_fields}
    env.update(
        DATABASE_URL=pg.url(name),
        # A Redis database of its own, so no task of an earlier test reaches these workers.
        REDIS_URL=redis.url.removesuffix("/0") + f"/{1 + number % 15}",
        SENDGRID_API_KEY=sendgrid.api_key,
        SENDGRID_API_HOST=sendgrid.url,
        SENDGRID_TIMEOUT_SECONDS="10",
        SENDGRID_WEBHOOK_PUBLIC_KEY=key.public_b64,
        SECRET_KEY=SECRET_KEY,
        PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
        POSTAL_ADDRESS="1 Production Street, 75001 Paris, France",
        FROM_EMAIL="editor@news.example.test",
        SEND_BATCH_SIZE=str(BATCH_SIZE),
        SEND_PARALLELISM="2",
        SCHEDULER_INTERVAL_SECONDS="1",
        BATCH_LEASE_SECONDS="6",
        LOG_FORMAT="json",
        WEB_PORT=str(port),
    )
    dep = Deployment(tmp_path, env)
    dep.run("init")
    (tmp_path / "issue.md").write_text(ISSUE)
    try:
        yield dep, key
    except BaseException:
        print(dep.logs())
        raise
    finally:
        dep.stop_all()


def import_readers(dep: Deployment, extra: list[str]) -> list[str]:
    emails = [f"reader{i:02}@example.org" for i in range(READERS)] + extra
    path = dep.workdir / "readers.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "name"])
        writer.writerows([email, email.split("@")[0].title()] for email in emails)
    dep.run("subscribers", "import", str(path), "--list", "weekly", "--create-list")
    return emails


def start_web(dep: Deployment) -> str:
    port = dep.env["WEB_PORT"]
    dep.start("web", "serve", "--host", "127.0.0.1", "--port", port, "--workers", "2")
    base = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        try:
            return httpx.get(f"{base}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(healthy, 30, "newsletter serve /healthz")
    return base


def start_worker(dep: Deployment, name: str, queues: str) -> subprocess.Popen[bytes]:
    return dep.start(name, "worker", "--queues", queues, "--concurrency", "1")


def status(dep: Deployment, send_id: int) -> dict[str, Any]:
    return dict(dep.json("status", str(send_id)))


def finished(dep: Deployment, send_id: int) -> dict[str, Any] | None:
    current = status(dep, send_id)
    return current if current["state"] in ("done", "failed", "cancelled") else None


def post_events(base: str, key: WebhookKey, events: list[dict[str, Any]]) -> None:
    body = json.dumps(events, separators=(",", ":")).encode() + b"\r\n"
    response = httpx.post(f"{base}/webhooks/sendgrid", content=body, headers=key.headers(body))
    assert response.status_code in (200, 202, 204), response.text


def event(email: str, kind: str, **fields: Any) -> dict[str, Any]:
    stamp = int(time.time())
    return {
        "email": email,
        "event": kind,
        "timestamp": stamp,
        "sg_event_id": base64.urlsafe_b64encode(os.urandom(12)).decode(),
        **fields,
    }


def subscriber_status(dep: Deployment, email: str) -> str:
    return str(dep.json("subscribers", "show", email)["status"])


def ids(engine: Engine, email: str) -> tuple[int, int, int]:
    with engine.connect() as conn:
        subscriber, key = conn.execute(
            select(Subscriber.id, Subscriber.link_key).where(Subscriber.email_norm == email)
        ).one()
        list_id = conn.execute(
            select(MailingList.id).where(MailingList.name == "weekly")
        ).scalar_one()
    return subscriber, list_id, key


def uncertain_emails(engine: Engine, send_id: int) -> set[str]:
    """Recipients of batches whose outcome nobody knows (a worker died during the request)."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(Subscriber.email_norm)
            .join(SendRecipient, SendRecipient.subscriber_id == Subscriber.id)
            .where(SendRecipient.send_id == send_id, SendRecipient.state == "uncertain")
        )
        return {row[0] for row in rows}


def copies(sendgrid: FakeSendGrid) -> Counter[str]:
    return Counter(r["email"].lower() for r in sendgrid.recipients())


# --- the tests ------------------------------------------------------------------------------


def test_production_topology(
    deployment: tuple[Deployment, WebhookKey], sendgrid: FakeSendGrid
) -> None:
    dep, key = deployment
    bouncer, unsubscriber_email = "bouncer@example.org", f"reader{READERS - 1:02}@example.org"
    readers = import_readers(dep, [bouncer])
    base = start_web(dep)
    start_worker(dep, "worker-a", "sends")
    start_worker(dep, "worker-b", "sends,messages,events")
    dep.start("scheduler", "scheduler")

    # Signed webhook events are stored and processed on the events queue: the bouncer is out.
    post_events(base, key, [event(bouncer, "bounce", type="bounce", status="5.1.1")])
    wait_until(lambda: subscriber_status(dep, bouncer) == "bounced", 30, "the bounce to apply")

    # Far enough ahead for any load; then the schedule moves forward (tests/fixtures/clock.py).
    at = (datetime.now(UTC) + LEAD).isoformat(timespec="seconds")
    send_id = int(dep.run("send", "issue.md", "--list", "weekly", "--at", at).split()[0])
    assert status(dep, send_id)["state"] == "scheduled"
    engine = make_engine(dep.env["DATABASE_URL"])
    advance(engine, [send_id], LEAD)

    # Only the scheduler starts it; once the first batch is accepted, the reader with the
    # highest id (the last batch) unsubscribes with the RFC 8058 one-click POST.
    wait_until(lambda: sendgrid.recipients(), 60, "the scheduler to start the send")
    subscriber_id, list_id, link_key = ids(engine, unsubscriber_email)
    token = Signer(SECRET_KEY).make(
        Token(Purpose.UNSUBSCRIBE, subscriber_id, list_id, send_id=send_id, key=link_key)
    )
    response = httpx.post(
        f"{base}/u/{token}",
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200, response.text
    delivered_so_far = copies(sendgrid)
    assert unsubscriber_email not in delivered_so_far
    assert 0 < sum(delivered_so_far.values()) < READERS, "the unsubscribe must land mid-send"

    # worker-b dies outright mid-send and comes back; nothing it held is lost.
    os.killpg(dep.processes["worker-b"].pid, signal.SIGKILL)
    dep.processes["worker-b"].wait(20)
    start_worker(dep, "worker-b", "sends,messages,events")

    final = wait_until(lambda: finished(dep, send_id), 90, "the send to finish")
    assert final["state"] == "done", final
    got = copies(sendgrid)
    unknown = uncertain_emails(engine, send_id)
    everyone_else = set(readers) - {bouncer, unsubscriber_email}
    assert got[unsubscriber_email] == 0 and got[bouncer] == 0
    assert max(got.values()) == 1, "nobody gets two copies"
    assert {e for e in everyone_else if got[e] == 0} <= unknown, "only uncertain ones may miss"
    assert sendgrid.stats()["duplicate_recipients"] == 0

    # The status adds up, and the report agrees with it.
    assert final["total"] == READERS  # the bouncer was suppressed before the audience froze
    parts = ("sent", "skipped", "failed", "uncertain", "pending", "cancelled")
    assert sum(final[p] for p in parts) == final["total"], final
    assert final["pending"] == 0 and final["failed"] == 0
    assert final["skipped"] >= 1  # the unsubscriber
    assert final["sent"] == sum(got.values()) - len(unknown & set(got))

    # A delivered copy that bounces later is suppressed too, and the report counts it.
    late = next(r for r in sendgrid.recipients() if r["email"] not in unknown)
    args = {k: str(v) for k, v in (late["custom_args"] or {}).items()}
    post_events(
        base,
        key,
        [
            event(late["email"], "delivered", sg_message_id=late["message_id"], **args),
            event(late["email"], "bounce", type="bounce", sg_message_id=late["message_id"], **args),
        ],
    )
    wait_until(lambda: subscriber_status(dep, late["email"]) == "bounced", 30, "the late bounce")
    report = dep.json("report", str(send_id))
    assert report["sent"] == final["sent"]
    assert report["bounced"] == 1 and report["delivered"] == 1
    engine.dispose()


def test_sigterm_mid_send_finishes_the_batch_in_hand_and_loses_nothing(
    deployment: tuple[Deployment, WebhookKey], sendgrid: FakeSendGrid
) -> None:
    dep, _key = deployment
    readers = import_readers(dep, [])
    worker = start_worker(dep, "worker-a", "sends")
    send_id = int(dep.run("send", "issue.md", "--list", "weekly", "--yes").split()[0])
    wait_until(lambda: sendgrid.recipients(), 60, "the first batch")

    # Celery's warm shutdown: the batch in hand finishes, no new batch is taken.
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(60) == 0
    after_stop = status(dep, send_id)
    assert after_stop["batches"].get("claimed", 0) == 0, "no batch is left half-done"
    assert after_stop["pending"] > 0, "the stopping worker must not drain the whole send"

    # Another worker picks up where it stopped.
    start_worker(dep, "worker-b", "sends")
    final = wait_until(lambda: finished(dep, send_id), 90, "the send to finish")
    assert final["state"] == "done" and final["sent"] == READERS, final
    assert copies(sendgrid) == Counter({email: 1 for email in readers})
