"""Erasure over HTTP and from the CLI: the address appears nowhere in a dump afterwards."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from mailer.accounts.models import AuditEntry
from mailer.core.models import (
    Batch,
    BatchState,
    Event,
    Forward,
    Send,
    SendRecipient,
    SendState,
    WebhookPost,
)
from mailer.events.report import Thresholds
from mailer.events.report_queries import send_report
from subscribers.db import transaction
from subscribers.store import add_subscriber
from tests.fixtures.services import _pg_bin
from tests.fixtures.workers import NEWSLETTER, service_env
from tests.integration.api_support import Served

pytestmark = pytest.mark.integration
ADDRESS = "Erin.Secret@Example.org"
NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def dump(served: Served) -> str:
    """The whole database as SQL text: sqlite3's iterdump, or pg_dump."""
    url = make_url(served.url)
    if url.get_backend_name() == "sqlite":
        with sqlite3.connect(str(url.database)) as conn:
            return "\n".join(conn.iterdump())
    argv = [_pg_bin("pg_dump"), "-h", "127.0.0.1", "-p", str(url.port), "-U", "postgres"]
    return subprocess.run(
        [*argv, str(url.database)], capture_output=True, text=True, check=True
    ).stdout


def a_person_who_was_mailed(served: Served, email: str) -> int:
    """Subscriber, a send that reached them, events and a raw webhook body naming them."""
    with transaction(served.engine) as session:
        attrs, where = {"city": "Lyonnesse"}, "Europe/Paris"
        person = add_subscriber(session, email, "Erin Secret", ["erase"], ["vip"], attrs, where,
                                consent_ip="203.0.113.9")  # fmt: skip
        send = Send(slug="s", subject="S", html="h", text="t", state=SendState.DONE,
                    list_id=person.memberships[0].list_id, test_to=email)  # fmt: skip
        session.add(send)
        session.flush()
        session.add(Batch(send_id=send.id, seq=0, state=BatchState.SENT, recipient_count=1,
                          sent_count=1, error=f"earlier: {email} deferred"))  # fmt: skip
        session.add(
            SendRecipient(send_id=send.id, subscriber_id=person.id, batch_seq=0, state="sent")
        )
        payload = {"email": email, "event": "open", "ip": "198.51.100.7", "useragent": "Mail"}
        post = WebhookPost(body=json.dumps([payload]), event_count=1)
        session.add(post)
        session.flush()
        for kind in ("delivered", "open"):
            session.add(Event(sg_event_id=f"{kind}-{person.id}", post_id=post.id, event=kind,
                              email=email.lower(), subscriber_id=person.id, send_id=send.id,
                              occurred_at=NOW, data=payload, reason=f"to {email}"))  # fmt: skip
        session.add(
            Forward(send_id=send.id, subscriber_id=person.id, friend_count=2, ip="198.51.100.7")
        )
        return send.id


def counts(served: Served, send_id: int) -> dict[str, object]:
    with transaction(served.engine) as session:
        report = send_report(session, send_id, Thresholds(0.02, 0.001))
    return {k: v for k, v in report.items() if isinstance(v, int)}


def test_erasure_over_the_api_leaves_no_trace_and_reports_add_up(served: Served) -> None:
    api = served.client("editor")
    api.post("/lists", json={"name": "erase"})
    send_id = a_person_who_was_mailed(served, ADDRESS)
    before = counts(served, send_id)
    assert before["sent"] == 1 and before["opened"] == 1 and before["forwarded"] == 1
    assert ADDRESS.lower() in dump(served).lower()
    assert api.delete(f"/subscribers/{ADDRESS.upper()}").status_code == 204
    text = dump(served).lower()
    for trace in (ADDRESS.lower(), "erin secret", "lyonnesse", "203.0.113.9", "198.51.100.7"):
        assert trace not in text, trace
    assert counts(served, send_id) == before
    assert api.get(f"/subscribers/{ADDRESS}").status_code == 404
    assert api.delete(f"/subscribers/{ADDRESS}").status_code == 404
    with transaction(served.engine) as session:
        erased = session.scalars(select(AuditEntry).where(AuditEntry.action == "subscriber.erase"))
        assert [e.actor for e in erased] == ["test-editor"]


def test_erasure_from_the_cli(served: Served) -> None:
    served.client("editor").post("/lists", json={"name": "erase"})
    other = "cli.person@example.org"
    a_person_who_was_mailed(served, other)
    env = service_env({"DATABASE_URL": served.url, "SECRET_KEY": "api-test-key"})
    run = [NEWSLETTER, "subscribers", "delete", other]
    refused = subprocess.run(run, env=env, cwd=served.cwd, capture_output=True, text=True)
    assert refused.returncode == 1 and "--erase" in refused.stderr
    done = subprocess.run(
        [*run, "--erase"], env=env, cwd=served.cwd, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert other not in dump(served).lower()
