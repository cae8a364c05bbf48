"""What the workspace's home page shows: the next send, sends under way, the last results and
the warnings that need a person. One read-only service, so the page holds no rules of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, distinct, func, select

from mailer.core.errors import NewsletterError
from mailer.core.models import Batch, BatchState, Event, Send, SendState
from mailer.events.report import Counts, Thresholds, figures, warnings
from mailer.sending.control import Progress, progress
from mailer.sending.create import check_audience
from mailer.sending.state import stalled
from subscribers.db import transaction
from subscribers.errors import SubscriberError
from subscribers.models import MailingList

LAST_SENDS = 5
HEADLINE = ("sent", "delivered_rate", "opened_rate", "clicked_rate", "bounced_rate")
QUIET_SECONDS = 300.0  # a send with work waiting and no batch touched this long: no worker?


@dataclass
class NextSend:
    id: int
    subject: str
    when: datetime | None
    local_time: bool
    list_name: str | None
    segment: str | None
    audience_now: int | None  # None: the list or segment no longer works (told in warnings)


@dataclass
class Overview:
    next_send: NextSend | None = None
    under_way: list[Progress] = field(default_factory=list)
    last: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def overview(engine: Engine, limits: Thresholds, now: datetime, scheduler_every: float) -> Overview:
    result = Overview()
    result.next_send = _next_send(engine, result.warnings)
    with engine.connect() as conn:
        active = conn.scalars(
            select(Send.id)
            .where(Send.state.in_((SendState.SENDING, SendState.PAUSED)), Send.test_to.is_(None))
            .order_by(Send.id)
        ).all()
    result.under_way = [progress(engine, send_id) for send_id in active]
    for item in result.under_way:
        if item.state == SendState.SENDING and stalled(engine, item.id, now, QUIET_SECONDS):
            result.warnings.append(
                f"send {item.id} has batches waiting but none moved for {QUIET_SECONDS / 60:.0f} "
                "minutes: is a worker running (newsletter worker --queues sends)?"
            )
    result.warnings.extend(_overdue(engine, now, scheduler_every))
    result.warnings.extend(_uncertain(engine))
    result.last = _last_sends(engine, limits, result.warnings)
    return result


def _next_send(engine: Engine, notes: list[str]) -> NextSend | None:
    with transaction(engine) as session:
        row = session.execute(
            select(Send, MailingList.name)
            .outerjoin(MailingList, MailingList.id == Send.list_id)
            .where(Send.state == SendState.SCHEDULED, Send.test_to.is_(None))
            .order_by(Send.scheduled_at.is_(None), Send.scheduled_at, Send.id)
            .limit(1)
        ).first()
        if row is None:
            return None
        send, list_name = row
        found = NextSend(
            send.id, send.subject, send.scheduled_at, send.local_time, list_name, send.segment, None
        )
    if list_name is not None:
        try:
            found.audience_now = check_audience(engine, list_name, found.segment)[1]
        except (NewsletterError, SubscriberError) as exc:
            notes.append(f"the next send ({found.subject}) cannot reach its audience: {exc}")
    return found


def _overdue(engine: Engine, now: datetime, scheduler_every: float) -> list[str]:
    late = now - timedelta(seconds=max(120.0, 4 * scheduler_every))
    with engine.connect() as conn:
        count = conn.scalar(
            select(func.count())
            .select_from(Send)
            .where(Send.state == SendState.SCHEDULED, Send.scheduled_at < late)
        )
    if not count:
        return []
    return [
        f"{count} scheduled send(s) are overdue: is the scheduler running (newsletter scheduler)?"
    ]


def _uncertain(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(Batch.send_id, func.sum(Batch.recipient_count))
            .where(Batch.state == BatchState.UNCERTAIN)
            .group_by(Batch.send_id)
            .order_by(Batch.send_id)
        ).all()
    return [
        f"send {send_id}: {int(count or 0)} recipients in uncertain batches: SendGrid may or "
        "may not have taken them; open the send to choose whether to resend"
        for send_id, count in rows
    ]


def _last_sends(engine: Engine, limits: Thresholds, notes: list[str]) -> list[dict[str, Any]]:
    """The last finished sends with headline figures: two grouped queries for all of them
    (the full report, with unsubscribes and referrals, is on each send's report page)."""
    with engine.connect() as conn:
        sends = conn.execute(
            select(Send.id, Send.subject, Send.state, Send.finished_at)
            .where(Send.state.in_((SendState.DONE, SendState.FAILED)), Send.test_to.is_(None))
            .order_by(Send.id.desc())
            .limit(LAST_SENDS)
        ).all()
        ids = [row.id for row in sends]
        sent = dict(
            conn.execute(
                select(Batch.send_id, func.sum(Batch.sent_count))
                .where(Batch.send_id.in_(ids), Batch.state == BatchState.SENT)
                .group_by(Batch.send_id)
            ).all()
        )
        kinds: dict[int, dict[str, tuple[int, int]]] = {send_id: {} for send_id in ids}
        for send_id, kind, unique, total in conn.execute(
            select(Event.send_id, Event.event, func.count(distinct(Event.email)), func.count())
            .where(Event.send_id.in_(ids))
            .group_by(Event.send_id, Event.event)
        ):
            kinds[int(send_id or 0)][kind] = (unique, total)
    out = []
    for row in sends:
        counts = _headline(int(sent.get(row.id) or 0), kinds[row.id])
        numbers = figures(counts)
        out.append(
            {
                "id": row.id,
                "subject": row.subject,
                "state": row.state,
                "finished_at": row.finished_at,
                **{k: numbers[k] for k in HEADLINE},
            }
        )
        notes.extend(f"send {row.id}: {w}" for w in warnings(counts, limits) if "rate" in w)
    return out


def _headline(sent: int, kinds: dict[str, tuple[int, int]]) -> Counts:
    """Counts from the events alone; what needs more queries (unsubscribes, forwards,
    referrals, hard bounces) is left at 0 here and shown on the report page."""

    def unique(kind: str) -> int:
        return kinds.get(kind, (0, 0))[0]

    def total(kind: str) -> int:
        return kinds.get(kind, (0, 0))[1]

    return Counts(
        sent=sent,
        delivered=unique("delivered"),
        bounced=unique("bounce"),
        bounced_hard=0,
        dropped=unique("dropped"),
        complained=unique("spamreport"),
        opened=unique("open"),
        opened_total=total("open"),
        clicked=unique("click"),
        clicked_total=total("click"),
        unsubscribed=0,
        forwarded=0,
        forwarded_friends=0,
        referred=0,
        events=sum(t for _u, t in kinds.values()),
    )
