"""The database side of a send report: one aggregate query per figure, no per-event rows.

Counting rules (documented in report.py): recipients are counted once per event kind by their
normalised address; opens and clicks also have a total.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, and_, cast, distinct, func, literal, or_, select, union
from sqlalchemy.orm import Session

from mailer.core.errors import NewsletterError
from mailer.core.models import (
    Event,
    Forward,
    OutboxKind,
    OutboxMessage,
    RecipientState,
    Send,
    SendRecipient,
)
from mailer.events import settle
from mailer.events.report import HOURS, Counts, Link, Thresholds, assemble
from subscribers.models import Membership, MembershipStatus, Status, Subscriber
from subscribers.types import UTCDateTime

HARD = or_(Event.bounce_type.is_(None), Event.bounce_type == "bounce")


def report_start(send: Send) -> datetime:
    return send.started_at or send.scheduled_at or send.created_at


def load_counts(session: Session, send: Send) -> Counts:
    per_kind = _per_kind(session, send.id)
    forwarders = session.scalar(
        select(func.count(distinct(Forward.subscriber_id))).where(Forward.send_id == send.id)
    )
    # Friends mailed: copies the provider took, not addresses typed into the form.
    friends = session.scalar(
        select(func.count()).where(
            OutboxMessage.send_id == send.id,
            OutboxMessage.kind == OutboxKind.FORWARD,
            OutboxMessage.sent_at.is_not(None),
            OutboxMessage.error.is_(None),
        )
    )
    return Counts(
        sent=_sent(session, send.id),
        delivered=per_kind.get("delivered", (0, 0))[0],
        bounced=per_kind.get("bounce", (0, 0))[0],
        bounced_hard=_distinct(session, send.id, "bounce", HARD),
        dropped=per_kind.get("dropped", (0, 0))[0],
        complained=per_kind.get("spamreport", (0, 0))[0],
        opened=per_kind.get("open", (0, 0))[0],
        opened_total=per_kind.get("open", (0, 0))[1],
        clicked=per_kind.get("click", (0, 0))[0],
        clicked_total=per_kind.get("click", (0, 0))[1],
        unsubscribed=len(_unsubscribed(session, send)),
        forwarded=int(forwarders or 0),
        forwarded_friends=int(friends or 0),
        referred=_referred(session, send.id),
        events=sum(total for _, total in per_kind.values()),
    )


def _sent(session: Session, send_id: int) -> int:
    return session.execute(
        select(func.count()).where(
            SendRecipient.send_id == send_id, SendRecipient.state == RecipientState.SENT
        )
    ).scalar_one()


def _per_kind(session: Session, send_id: int) -> dict[str, tuple[int, int]]:
    rows = session.execute(
        select(Event.event, func.count(distinct(Event.email)), func.count())
        .where(Event.send_id == send_id)
        .group_by(Event.event)
    )
    return {row[0]: (row[1], row[2]) for row in rows}


def _distinct(session: Session, send_id: int, kind: str, condition: Any) -> int:
    return session.execute(
        select(func.count(distinct(Event.email))).where(
            Event.send_id == send_id, Event.event == kind, condition
        )
    ).scalar_one()


def _unsubscribed(session: Session, send: Send) -> set[int]:
    """Webhook unsubscribes for the send, plus recipients who left (list or everything) on our
    own pages after the send started and before any later send reached them."""
    start = report_start(send)
    from_events = session.execute(
        select(Event.subscriber_id).where(
            Event.send_id == send.id,
            Event.event.in_(("unsubscribe", "group_unsubscribe")),
            Event.subscriber_id.is_not(None),
        )
    ).scalars()
    left_at = func.coalesce(Membership.unsubscribed_at, Subscriber.unsubscribed_at)
    candidates = session.execute(
        select(SendRecipient.subscriber_id, left_at)
        .join(Subscriber, Subscriber.id == SendRecipient.subscriber_id)
        .outerjoin(
            Membership,
            and_(
                Membership.subscriber_id == SendRecipient.subscriber_id,
                Membership.list_id == send.list_id,
                Membership.status == MembershipStatus.UNSUBSCRIBED,
                Membership.unsubscribed_at >= start,
            ),
        )
        .where(
            SendRecipient.send_id == send.id,
            SendRecipient.state == RecipientState.SENT,
            SendRecipient.subscriber_id.in_(_left_since(send, start)),
            or_(Membership.subscriber_id.is_not(None), Subscriber.unsubscribed_at >= start),
        )
    ).all()
    later = _later_sends(session, send, [row[0] for row in candidates])
    own_pages = {
        sid for sid, when in candidates if not any(start < s <= when for s in later.get(sid, []))
    }
    return {sid for sid in from_events if sid is not None} | own_pages


def _left_since(send: Send, start: datetime) -> Any:
    """Who left the list or everything since `start`: implied by the join's own condition,
    but found through two small partial indexes (migration 0009), so the send's recipients
    are not each joined to `subscribers` and `memberships` first."""
    left_list = select(Membership.subscriber_id).where(
        Membership.list_id == send.list_id,
        Membership.unsubscribed_at >= start,
        Membership.status == MembershipStatus.UNSUBSCRIBED,
    )
    return union(left_list, select(Subscriber.id).where(Subscriber.unsubscribed_at >= start))


def _later_sends(session: Session, send: Send, ids: list[int]) -> dict[int, list[datetime]]:
    found: dict[int, list[datetime]] = {}
    start = report_start(send)
    for offset in range(0, len(ids), 500):
        rows = session.execute(
            select(SendRecipient.subscriber_id, Send.started_at)
            .join(Send, Send.id == SendRecipient.send_id)
            .where(
                SendRecipient.subscriber_id.in_(ids[offset : offset + 500]),
                SendRecipient.state == RecipientState.SENT,
                Send.id != send.id,
                Send.started_at > start,
            )
        )
        for sid, started in rows:
            if started is not None:
                found.setdefault(sid, []).append(started)
    return found


def _referred(session: Session, send_id: int) -> int:
    return session.execute(
        select(func.count()).where(
            Subscriber.referred_send_id == send_id,
            or_(Subscriber.confirmed_at.is_not(None), Subscriber.status == Status.ACTIVE),
        )
    ).scalar_one()


def top_links(session: Session, send_id: int, limit: int = 10) -> list[Link]:
    clicks = func.count()
    rows = session.execute(
        select(Event.url, clicks, func.count(distinct(Event.email)))
        .where(Event.send_id == send_id, Event.event == "click", Event.url.is_not(None))
        .group_by(Event.url)
        .order_by(clicks.desc(), Event.url)
        .limit(limit)
    )
    return [Link(url=row[0] or "", clicks=row[1], unique=row[2]) for row in rows]


def hourly(session: Session, send: Send) -> list[Counter[str]]:
    """Events per hour and kind over the first HOURS hours after the send started."""
    # SendGrid stamps events in whole seconds: an event in the send's first second would
    # otherwise fall before a start that has microseconds.
    start = report_start(send).replace(microsecond=0)
    bucket = _hour_bucket(session, start)
    rows = session.execute(
        select(bucket, Event.event, func.count())
        .where(
            Event.send_id == send.id,
            Event.occurred_at >= start,
            Event.occurred_at < start + timedelta(hours=HOURS),
        )
        .group_by(bucket, Event.event)
    )
    hours: list[Counter[str]] = [Counter() for _ in range(HOURS)]
    for hour, kind, count in rows:
        if 0 <= int(hour) < HOURS:
            hours[int(hour)][kind] += count
    return hours


def _hour_bucket(session: Session, start: datetime) -> Any:
    origin = literal(start, UTCDateTime)
    if session.get_bind().dialect.name == "postgresql":
        elapsed = func.extract("epoch", Event.occurred_at - origin)
        return cast(func.floor(elapsed / 3600), Integer)
    # Whole seconds as integers: julianday() floats put an event at exactly 1 h into hour 0.
    seconds = cast(func.strftime("%s", Event.occurred_at), Integer) - cast(
        func.strftime("%s", origin), Integer
    )
    return seconds.self_group().op("/")(3600)


def send_report(session: Session, send_id: int, limits: Thresholds) -> dict[str, Any]:
    """The report of one send; NewsletterError when there is no such send."""
    send = session.get(Send, send_id)
    if send is None:
        raise NewsletterError(f"no send with id {send_id}")
    info = {
        "send_id": send.id,
        "subject": send.subject,
        "state": send.state,
        "started_at": report_start(send).isoformat(),
    }
    counts = load_counts(session, send)
    report = assemble(info, counts, top_links(session, send.id), hourly(session, send), limits)
    uncertain = settle.summary(session, send.id)
    report["uncertain"] = uncertain.as_dict()
    report["warnings"].extend(settle.explain(uncertain, None, send.id))
    return report
