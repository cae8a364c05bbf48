"""Editor actions on a send: create it, pause, resume, cancel; and the progress it reports.

A send ends `done` when every batch is sent or skipped, and `failed` when any batch was refused
(the others still went out; `status` names the refused batches and SendGrid's reason).
Uncertain batches leave the send `done`/`failed` too, but are listed until the editor resends
them (`resume --resend-uncertain`) or lets them be.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, case, func, select, update

from mailer.core.errors import NewsletterError
from mailer.core.models import Batch, BatchState, RecipientState, Send, SendRecipient, SendState
from mailer.sending.state import rowcount
from subscribers.audience import audience_query
from subscribers.db import transaction
from subscribers.models import MailingList

ACTIVE = (SendState.SCHEDULED, SendState.SENDING, SendState.PAUSED)


def get_send(engine: Engine, send_id: int) -> Send:
    with transaction(engine) as session:
        send = session.get(Send, send_id)
        if send is None:
            raise NewsletterError(f"send {send_id} does not exist")
        session.expunge(send)
        return send


def pause(engine: Engine, send_id: int) -> str:
    """Pending batches stay pending and are not claimed; claimed ones finish."""
    get_send(engine, send_id)
    with transaction(engine) as session:
        done = rowcount(
            session.execute(
                update(Send)
                .where(Send.id == send_id, Send.state.in_((SendState.SCHEDULED, SendState.SENDING)))
                .values(state=SendState.PAUSED)
            )
        )
    return _outcome(engine, send_id, done, "pause")


def resume(engine: Engine, send_id: int, resend_uncertain: bool = False) -> str:
    """Back to where it was (scheduled if it never started); optionally retry uncertain batches."""
    get_send(engine, send_id)
    with transaction(engine) as session:
        back = case((Send.started_at.is_(None), SendState.SCHEDULED.value), else_="sending")
        changed = rowcount(
            session.execute(
                update(Send)
                .where(Send.id == send_id, Send.state == SendState.PAUSED)
                .values(state=back, throttled_until=None)
            )
        )
        if resend_uncertain:
            changed += _requeue_uncertain(session, send_id)
    return _outcome(engine, send_id, changed, "resume")


def _requeue_uncertain(session: Any, send_id: int) -> int:
    """The editor accepts possible duplicates for these batches: pending again, send reopened."""
    count = rowcount(
        session.execute(
            update(Batch)
            .where(Batch.send_id == send_id, Batch.state == BatchState.UNCERTAIN)
            .values(state=BatchState.PENDING, worker_id=None, requested_at=None, not_before=None)
        )
    )
    if count:
        session.execute(
            update(SendRecipient)
            .where(SendRecipient.send_id == send_id)
            .where(SendRecipient.state == RecipientState.UNCERTAIN)
            .values(state=RecipientState.QUEUED)
        )
        session.execute(
            update(Send)
            .where(Send.id == send_id, Send.state.in_((SendState.DONE, SendState.FAILED)))
            .values(state=SendState.SENDING, finished_at=None)
        )
    return count


def cancel(engine: Engine, send_id: int, now: datetime) -> str:
    """No further batch goes out; batches already claimed finish (their request is under way)."""
    get_send(engine, send_id)
    with transaction(engine) as session:
        changed = rowcount(
            session.execute(
                update(Send)
                .where(Send.id == send_id, Send.state.in_(ACTIVE))
                .values(state=SendState.CANCELLED, finished_at=now)
            )
        )
        if changed:
            session.execute(
                update(Batch)
                .where(Batch.send_id == send_id, Batch.state == BatchState.PENDING)
                .values(state=BatchState.CANCELLED, finished_at=now)
            )
            _cancel_queued_recipients(session, send_id)
    return _outcome(engine, send_id, changed, "cancel")


def _cancel_queued_recipients(session: Any, send_id: int) -> None:
    cancelled = select(Batch.seq).where(
        Batch.send_id == send_id, Batch.state == BatchState.CANCELLED
    )
    session.execute(
        update(SendRecipient)
        .where(SendRecipient.send_id == send_id, SendRecipient.batch_seq.in_(cancelled))
        .where(SendRecipient.state == RecipientState.QUEUED)
        .values(state=RecipientState.CANCELLED)
    )


def _outcome(engine: Engine, send_id: int, changed: int, action: str) -> str:
    state = get_send(engine, send_id).state
    if not changed:
        raise NewsletterError(f"cannot {action} send {send_id}: it is {state}")
    return state


@dataclass
class Progress:
    """What `status` and `sends` show; also the `--json` object."""

    id: int
    state: str
    subject: str
    list_name: str | None
    segment: str | None
    test_to: str | None
    scheduled_at: str | None
    started_at: str | None
    finished_at: str | None
    throttled_until: str | None
    total: int = 0
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    uncertain: int = 0
    pending: int = 0
    cancelled: int = 0
    batches: dict[str, int] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)
    local_time: bool = False
    wall_time: str | None = None  # --local-time: the wall clock each reader gets it at
    audience: int = 0  # recipients once frozen; before that, how many match now
    notes: list[str] = field(default_factory=list)  # what needs attention (attention.py)
    settlement: dict[str, int] = field(default_factory=dict)  # uncertain batches, settled ones

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["list"] = data.pop("list_name")
        return data


def progress(engine: Engine, send_id: int) -> Progress:
    send = get_send(engine, send_id)
    with engine.connect() as conn:
        list_name = (
            conn.scalar(select(MailingList.name).where(MailingList.id == send.list_id))
            if send.list_id
            else None
        )
        rows = conn.execute(
            select(
                Batch.state,
                func.count(),
                func.sum(Batch.recipient_count),
                func.sum(Batch.sent_count),
            )
            .where(Batch.send_id == send_id)
            .group_by(Batch.state)
        ).all()
        problems = conn.execute(
            select(Batch.seq, Batch.state, Batch.recipient_count, Batch.error)
            .where(Batch.send_id == send_id)
            .where(Batch.state.in_((BatchState.FAILED, BatchState.UNCERTAIN)))
            .order_by(Batch.seq)
            .limit(50)
        ).all()
    result = _base_progress(send, list_name)
    for state, batches, recipients, sent in rows:
        _add_counts(result, state, batches, int(recipients or 0), int(sent or 0))
    result.audience = result.total if rows or send.list_id is None else _matching(engine, send)
    result.errors = [
        {"batch": seq, "state": state, "recipients": count, "error": error}
        for seq, state, count, error in problems
    ]
    return result


def _add_counts(result: Progress, state: str, batches: int, recipients: int, sent: int) -> None:
    result.batches[state] = batches
    result.total += recipients
    if state == BatchState.SENT:
        result.sent += sent
        result.skipped += recipients - sent
    elif state == BatchState.SKIPPED:
        result.skipped += recipients
    elif state == BatchState.FAILED:
        result.failed += recipients
    elif state == BatchState.UNCERTAIN:
        result.uncertain += recipients
    elif state == BatchState.CANCELLED:
        result.cancelled += recipients
    else:
        result.pending += recipients


def _base_progress(send: Send, list_name: str | None) -> Progress:
    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return Progress(
        id=send.id,
        state=send.state,
        subject=send.subject,
        list_name=list_name,
        segment=send.segment,
        test_to=send.test_to,
        scheduled_at=iso(send.scheduled_at),
        started_at=iso(send.started_at),
        finished_at=iso(send.finished_at),
        throttled_until=iso(send.throttled_until),
        local_time=send.local_time,
        wall_time=send.wall_time,
    )


def _matching(engine: Engine, send: Send) -> int:
    """How many the send would reach if it started now (its audience is not frozen yet)."""
    assert send.list_id is not None
    audience = audience_query(send.list_id, send.segment).subquery()
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(audience)) or 0)


def recent_sends(engine: Engine, limit: int = 20) -> list[Progress]:
    with engine.connect() as conn:
        ids = conn.execute(select(Send.id).order_by(Send.id.desc()).limit(limit)).scalars().all()
    return [progress(engine, send_id) for send_id in ids]
