"""The report of a constructed send: every figure and rate adds up; CLI, JSON and page agree."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from mailer.cli.main import app
from mailer.core.models import Forward, OutboxMessage, RecipientState, Send, SendRecipient
from mailer.core.settings import Settings
from mailer.events.intake import parse_batch, store_post
from mailer.events.policy import PolicyConfig
from mailer.events.processing import apply_post
from mailer.events.report import Thresholds
from mailer.events.report_queries import send_report
from mailer.web.app import create_app
from subscribers.db import transaction
from subscribers.models import Status, Subscriber, utcnow
from subscribers.status import unsubscribe_from_list
from tests.unit.events.conftest import STARTED, SentIssue, make_send
from tests.unit.events.helpers import body_of, tagged

T0 = int(STARTED.timestamp())
HOUR = 3600


def _store(engine: Engine, events: list[dict[str, Any]]) -> None:
    body = body_of(events)
    stored = store_post(engine, body.decode(), parse_batch(body), utcnow())
    apply_post(engine, stored.post_id, PolicyConfig(), utcnow())


@pytest.fixture
def constructed(engine: Engine) -> SentIssue:
    emails = [f"p{i}@example.com" for i in range(11)]
    issue = make_send(engine, emails)
    ids = issue.subscribers

    def ev(kind: str, i: int, hours: float, **fields: Any) -> dict[str, Any]:
        email = emails[i]
        return tagged(
            kind,
            email,
            issue.send_id,
            ids[email],
            issue.list_id,
            timestamp=T0 + int(hours * HOUR),
            **fields,
        )

    events = [ev("processed", i, 0) for i in range(10)]
    events += [ev("delivered", i, 0.5) for i in range(8)]
    events += [ev("bounce", 8, 0.2, type="bounce"), ev("bounce", 9, 0.3, type="blocked")]
    events += [ev("open", 0, 1), ev("open", 0, 2), ev("open", 1, 2), ev("open", 2, 50)]
    events += [
        ev("click", 0, 1, url="https://a.example/"),
        ev("click", 0, 3, url="https://a.example/"),
        ev("click", 1, 3, url="https://a.example/"),
        ev("click", 2, 3, url="https://b.example/"),
    ]
    events += [ev("spamreport", 3, 5), ev("unsubscribe", 4, 6), ev("deferred", 7, 0.1)]
    _store(engine, events)
    with transaction(engine) as session:
        # p10's batch failed: not sent, not counted.
        session.get(SendRecipient, (issue.send_id, ids[emails[10]])).state = RecipientState.FAILED  # type: ignore[union-attr]
        # p5 leaves the list on our own page two hours in: credited to this send.
        unsubscribe_from_list(
            session, ids[emails[5]], issue.list_id, "page", STARTED + timedelta(hours=2)
        )
        session.add_all(
            [
                Forward(send_id=issue.send_id, subscriber_id=ids[emails[0]], friend_count=4),
                Forward(send_id=issue.send_id, subscriber_id=ids[emails[1]], friend_count=2),
            ]
        )
        # Friends mailed counts copies sent: not the one still queued, nor the one skipped.
        sent = [(STARTED, None)] * 4 + [(None, None), (STARTED, "skipped: the friend opted out")]
        session.add_all(
            OutboxMessage(kind="forward", send_id=issue.send_id, args={}, sent_at=at, error=error)
            for at, error in sent
        )
        session.add_all(
            [
                Subscriber(
                    email="r1@example.com",
                    email_norm="r1@example.com",
                    referred_by_id=ids[emails[0]],
                    referred_send_id=issue.send_id,
                    confirmed_at=STARTED + timedelta(hours=4),
                ),
                Subscriber(
                    email="r2@example.com",
                    email_norm="r2@example.com",
                    status=Status.PENDING,
                    referred_by_id=ids[emails[0]],
                    referred_send_id=issue.send_id,
                ),
            ]
        )
    # p6 left after a LATER send reached them: credited to that later send, not this one.
    later = make_send(
        engine,
        ["q@example.com"],
        list_name="later",
        started=STARTED + timedelta(days=1),
        message_id="msg0002",
    )
    with transaction(engine) as session:
        session.add(
            SendRecipient(
                send_id=later.send_id,
                subscriber_id=ids[emails[6]],
                batch_seq=0,
                state=RecipientState.SENT,
            )
        )
        unsubscribe_from_list(
            session, ids[emails[6]], issue.list_id, "page", STARTED + timedelta(days=2)
        )
    return issue


def _report(engine: Engine, send_id: int) -> dict[str, Any]:
    with transaction(engine) as session:
        return send_report(session, send_id, Thresholds())


def test_the_figures_add_up(engine: Engine, constructed: SentIssue) -> None:
    report = _report(engine, constructed.send_id)
    figures = {
        k: report[k]
        for k in (
            "sent",
            "delivered",
            "bounced",
            "bounced_hard",
            "bounced_soft",
            "complained",
            "opened",
            "opened_total",
            "clicked",
            "clicked_total",
            "unsubscribed",
            "forwarded",
            "forwarded_friends",
            "referred",
        )
    }
    assert figures == {
        "sent": 10,
        "delivered": 8,
        "bounced": 2,
        "bounced_hard": 1,
        "bounced_soft": 1,
        "complained": 1,
        "opened": 3,
        "opened_total": 4,
        "clicked": 3,
        "clicked_total": 4,
        "unsubscribed": 2,
        "forwarded": 2,
        "forwarded_friends": 4,
        "referred": 1,
    }
    assert report["delivered"] + report["bounced"] == report["sent"]
    assert report["bounced_rate"] == pytest.approx(2 / 10)
    assert report["complained_rate"] == pytest.approx(1 / 8)
    assert report["opened_rate"] == pytest.approx(3 / 8)
    assert report["top_links"] == [
        {"url": "https://a.example/", "clicks": 3, "unique": 2},
        {"url": "https://b.example/", "clicks": 1, "unique": 1},
    ]


def test_hourly_histogram_covers_the_first_48_hours(engine: Engine, constructed: SentIssue) -> None:
    hourly = _report(engine, constructed.send_id)["hourly"]
    assert len(hourly) == 48
    assert hourly[0] == {"hour": 0, "delivered": 8, "open": 0, "click": 0, "other": 13, "total": 21}
    assert (hourly[1]["open"], hourly[1]["click"], hourly[2]["open"], hourly[3]["click"]) == (
        1,
        1,
        2,
        3,
    )
    # 31 events in all; the open at hour 50 is outside the chart.
    assert sum(row["total"] for row in hourly) == 30


def test_an_event_in_the_first_second_of_the_send_is_on_the_chart(engine: Engine) -> None:
    """SendGrid stamps events in whole seconds; a send starts at any fraction of one."""
    issue = make_send(engine, ["early@example.com"])
    with transaction(engine) as session:
        session.get_one(Send, issue.send_id).started_at = STARTED + timedelta(milliseconds=700)
    sid = issue.subscribers["early@example.com"]
    _store(
        engine,
        [tagged("delivered", "early@example.com", issue.send_id, sid, issue.list_id, timestamp=T0)],
    )
    assert _report(engine, issue.send_id)["hourly"][0]["delivered"] == 1


def test_warnings_past_the_bounce_and_complaint_limits(
    engine: Engine, constructed: SentIssue
) -> None:
    warnings = _report(engine, constructed.send_id)["warnings"]
    assert any(w.startswith("bounce rate 20.00%") for w in warnings)
    assert any(w.startswith("complaint rate 12.50%") for w in warnings)
    quiet = make_send(engine, ["solo@example.com"], list_name="quiet", message_id="m3")
    assert _report(engine, quiet.send_id)["warnings"] == [
        "no webhook events recorded for this send yet: is SendGrid's Event Webhook pointed at "
        "/webhooks/sendgrid?"
    ]


def test_cli_json_table_and_unknown_send(settings: Settings, constructed: SentIssue) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["report", str(constructed.send_id), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["clicked_total"] == 4
    table = runner.invoke(app, ["report", str(constructed.send_id)])
    assert (
        table.exit_code == 0
        and "complained" in table.stdout
        and "https://a.example/" in table.stdout
    )
    missing = runner.invoke(app, ["report", "999"])
    assert missing.exit_code == 1
    assert "error: no send with id 999" in missing.stderr


def test_report_page_needs_the_admin_token(settings: Settings, constructed: SentIssue) -> None:
    url = f"/reports/{constructed.send_id}"
    assert TestClient(create_app(settings)).get(url).status_code == 403
    client = TestClient(create_app(settings.model_copy(update={"ADMIN_TOKEN": "s3cret"})))
    assert client.get(url).status_code == 401
    assert client.get(url, params={"token": "wrong"}).status_code == 401
    page = client.get(url, params={"token": "s3cret"})
    assert page.status_code == 200
    assert "<svg" in page.text and "<script" not in page.text
    assert "https://a.example/" in page.text and "Warning: bounce rate" in page.text
    assert client.get(url, headers={"X-Admin-Token": "s3cret"}).status_code == 200
    assert client.get("/reports/999", params={"token": "s3cret"}).status_code == 404
