"""Uncertain batches settled from SendGrid's events: accepted -> sent; no evidence while a later
request's events are old enough -> sent again; no webhook -> left to the editor."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from mailer.core.models import Batch, Event, SendRecipient
from mailer.core.settings import Settings
from mailer.events import settle
from mailer.events.intake import parse_batch, store_post
from mailer.events.report import Thresholds
from mailer.events.report_queries import send_report
from mailer.readers.links import Signer
from mailer.sending.attention import send_status
from mailer.sending.payload import LinkContext, Message, Recipient, build_payload
from mailer.sending.pipeline import run_send
from mailer.transport.base import UncertainOutcome
from tests.unit.events.helpers import event
from tests.unit.sending.helpers import T0, Clock, ScriptedTransport, emails, runtime, started

WINDOW = 600.0


def three_batches_middle_uncertain(
    engine: Engine, settings: Settings, webhook: bool = True
) -> tuple[int, Settings, ScriptedTransport, Clock]:
    """30 people in batches 0, 1, 2 requested a second apart; batch 1's answer was lost."""
    send_id, cfg = started(engine, settings, 30)
    cfg = cfg.model_copy(
        update={"UNCERTAIN_SETTLE_SECONDS": WINDOW, "SENDGRID_WEBHOOK_INSECURE": webhook}
    )
    transport = ScriptedTransport([None, UncertainOutcome("connection lost"), None])
    clock = Clock()
    for _ in range(3):
        run_send(runtime(engine, cfg, transport, clock), send_id, max_batches=1)
        clock.advance(1)
    return send_id, cfg, transport, clock


def deliver_events(engine: Engine, send_id: int, seq: int, at_seconds: float) -> None:
    """SendGrid's `processed` events of one batch (custom_args flattened), received at T0+s."""
    people = [f"p{i:04d}@example.org" for i in range(seq * 10, seq * 10 + 10)]
    body = json.dumps(
        [
            event("processed", address, nl_send_id=str(send_id), nl_batch=str(seq))
            for address in people
        ]
    )
    store_post(engine, body, parse_batch(body.encode()), T0 + timedelta(seconds=at_seconds))


def batch_state(engine: Engine, send_id: int, seq: int) -> tuple[str, str | None]:
    with engine.connect() as conn:
        row = conn.execute(
            select(Batch.state, Batch.error).where(Batch.send_id == send_id, Batch.seq == seq)
        ).one()
    return row[0], row[1]


def recipient_states(engine: Engine, send_id: int, seq: int) -> set[str]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(SendRecipient.state).where(
                SendRecipient.send_id == send_id, SendRecipient.batch_seq == seq
            )
        ).scalars()
        return set(rows)


def test_events_of_the_batch_itself_mark_it_sent_without_a_second_request(
    engine: Engine, settings: Settings
) -> None:
    send_id, cfg, transport, _ = three_batches_middle_uncertain(engine, settings)
    assert batch_state(engine, send_id, 1)[0] == "uncertain"
    deliver_events(engine, send_id, 1, at_seconds=30)

    done = settle.settle_uncertain(engine, cfg, T0 + timedelta(seconds=31))
    assert (done.sent, done.resent) == (1, 0)
    assert batch_state(engine, send_id, 1) == ("sent", settle.ACCEPTED_NOTE)
    assert recipient_states(engine, send_id, 1) == {"sent"}
    assert transport.requests == 3
    status = send_status(engine, cfg, send_id, T0 + timedelta(seconds=32))
    assert (status.sent, status.uncertain) == (30, 0)
    assert status.settlement["settled_accepted"] == 1
    assert "1 had been accepted, 0 sent again" in status.notes[0]


def test_no_event_while_a_later_batchs_are_old_enough_sends_it_again(
    engine: Engine, settings: Settings
) -> None:
    send_id, cfg, transport, clock = three_batches_middle_uncertain(engine, settings)
    deliver_events(engine, send_id, 0, at_seconds=20)  # earlier: proves nothing about batch 1
    deliver_events(engine, send_id, 2, at_seconds=30)

    waiting = send_status(engine, cfg, send_id, T0 + timedelta(seconds=40))
    assert (
        "sent again when none came while events of later batches are 600 s old"
        in (waiting.notes[0])
    )
    early = settle.settle_uncertain(engine, cfg, T0 + timedelta(seconds=30 + WINDOW - 1))
    assert (early.sent, early.resent) == (0, 0)
    late = settle.settle_uncertain(engine, cfg, T0 + timedelta(seconds=30 + WINDOW + 1))
    assert (late.resent, late.reopened) == (1, {send_id})
    assert batch_state(engine, send_id, 1)[0] == "pending"

    clock.advance(WINDOW + 60)
    result = run_send(runtime(engine, cfg, transport, clock), send_id)
    assert result.finished == "done"
    assert sorted(transport.accepted) == sorted(emails(0, 30))  # batch 1 once, from the resend
    assert batch_state(engine, send_id, 1) == ("sent", settle.RESENT_NOTE)
    report_notes = send_status(engine, cfg, send_id, clock()).notes
    assert "0 had been accepted, 1 sent again" in report_notes[0]


def test_without_the_webhook_nothing_is_settled_and_status_says_who_decides(
    engine: Engine, settings: Settings
) -> None:
    send_id, cfg, _, _ = three_batches_middle_uncertain(engine, settings, webhook=False)
    deliver_events(engine, send_id, 2, at_seconds=30)  # (cannot arrive without it; even so)
    done = settle.settle_uncertain(engine, cfg, T0 + timedelta(days=1))
    assert (done.sent, done.resent) == (0, 0)
    status = send_status(engine, cfg, send_id, T0 + timedelta(days=1))
    assert status.uncertain == 10
    assert status.notes == [
        "10 recipients in 1 uncertain batches: the Event Webhook is not configured, so only you "
        f"can settle them: `newsletter resume {send_id} --resend-uncertain` sends them again "
        "(may duplicate)"
    ]
    with Session(engine) as session:
        report = send_report(session, send_id, Thresholds.from_settings(cfg))
    assert report["uncertain"] == {
        "batches": 1,
        "recipients": 10,
        "settled_accepted": 0,
        "settled_resent": 0,
    }
    assert (
        "10 recipients in 1 uncertain batches: SendGrid may or may not have them; "
        f"`newsletter status {send_id}` says how they get settled"
    ) in report["warnings"]


def test_each_personalization_names_its_batch_and_the_event_keeps_it(engine: Engine) -> None:
    message = Message("S", "<p>x</p>", "x", "from@example.org", "F", "<weekly.test>")
    ctx = LinkContext("https://n.test", Signer("k"), 7, 3, 0, batch_seq=0)
    payload = build_payload(message, ctx, [Recipient(1, "a@example.org")])
    args = payload["personalizations"][0]["custom_args"]
    assert args == {"nl_send_id": "7", "nl_subscriber_id": "1", "nl_list_id": "3", "nl_batch": "0"}

    body = json.dumps([event("processed", "a@example.org", **args)])
    store_post(engine, body, parse_batch(body.encode()), T0)
    with engine.connect() as conn:
        assert conn.execute(select(Event.send_id, Event.batch_seq)).one() == (7, 0)
