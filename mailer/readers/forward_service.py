"""Forward to a friend, the database step: one reader's submit, checked and recorded at once.

The reader's row is locked first (SELECT ... FOR UPDATE; on SQLite the write lock), so two
submits of one reader are counted one after the other and the limits hold under concurrency.
Each friend gets one copy per issue whoever forwards it (`forward_recipients`, by keyed hash),
and never one when they opted out, as a subscriber or as a suppressed address.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from mailer.core.models import AddressSuppression, Forward, ForwardRecipient, Send
from mailer.core.privacy import address_hash
from mailer.readers import forwarding, outbox
from mailer.readers.forwarding import ForwardError
from subscribers.models import SUPPRESSED, Status, Subscriber, utcnow
from subscribers.store import normalize_email


class NotForwardable(ForwardError):
    """The link's reader or issue is gone (404), or the reader may not forward now (403)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class ForwardRequest:
    send_id: int
    subscriber_id: int
    link_key: int
    friends: list[str]
    note: str
    ip: str


def record_forward(session: Session, req: ForwardRequest, secret_key: str) -> list[int]:
    """Check the limits and record the submit; the outbox rows to dispatch after commit."""
    forwarder = lock_reader(session, req.subscriber_id)
    if forwarder is None or forwarder.link_key != req.link_key:
        raise NotForwardable("We could not find this issue.", 404)
    if session.get(Send, req.send_id) is None:
        raise NotForwardable("We could not find this issue.", 404)
    if forwarder.status != Status.ACTIVE:
        raise NotForwardable("Only subscribed readers can forward an issue.", 403)
    forwarding.check_quota(len(req.friends), *_counts(session, req, utcnow()))
    session.add(
        Forward(
            send_id=req.send_id,
            subscriber_id=req.subscriber_id,
            friend_count=len(req.friends),
            ip=req.ip,
        )
    )
    hashes = {address_hash(secret_key, friend): friend for friend in req.friends}
    allowed = _not_opted_out(session, hashes)
    fresh = _first_copies(session, req.send_id, allowed)
    rows = [
        outbox.add_forward(session, req.send_id, req.subscriber_id, hashes[h], req.note)
        for h in allowed
        if h in fresh
    ]
    return [row.id for row in rows]


def lock_reader(session: Session, subscriber_id: int) -> Subscriber | None:
    """The reader's row, locked until the transaction ends."""
    bind = session.get_bind()
    if bind.dialect.name == "sqlite":
        # SQLite has no row locks: a first write takes the database's write lock, and taking
        # it before any read means this transaction reads what the previous one committed.
        session.execute(
            text("UPDATE subscribers SET link_key = link_key WHERE id = :id"), {"id": subscriber_id}
        )
    query = select(Subscriber).where(Subscriber.id == subscriber_id).with_for_update()
    return session.scalars(query).first()


def _counts(session: Session, req: ForwardRequest, now: datetime) -> tuple[int, int]:
    """Friends this reader already sent this issue to, and sent anything to in 24 h."""
    mine = Forward.subscriber_id == req.subscriber_id
    total = func.coalesce(func.sum(Forward.friend_count), 0)
    for_issue = session.scalar(select(total).where(mine, Forward.send_id == req.send_id))
    today = session.scalar(
        select(total).where(mine, Forward.created_at >= now - timedelta(hours=24))
    )
    return int(for_issue or 0), int(today or 0)


def _not_opted_out(session: Session, hashes: dict[str, str]) -> list[str]:
    """The hashes of friends who may be mailed: not suppressed as subscribers or addresses."""
    suppressed = set(
        session.scalars(
            select(AddressSuppression.address_hash).where(
                AddressSuppression.address_hash.in_(list(hashes))
            )
        )
    )
    by_email = {normalize_email(friend): h for h, friend in hashes.items()}
    for email in session.scalars(
        select(Subscriber.email_norm).where(
            Subscriber.email_norm.in_(list(by_email)),
            Subscriber.status.in_([str(s) for s in SUPPRESSED]),
        )
    ):
        suppressed.add(by_email[email])
    return [h for h in hashes if h not in suppressed]


def _first_copies(session: Session, send_id: int, hashes: list[str]) -> set[str]:
    """Claim one copy of the issue for each friend; the ones no one had claimed before."""
    if not hashes:
        return set()
    dialect = session.get_bind().dialect.name
    maker = postgresql.insert if dialect == "postgresql" else sqlite.insert
    rows = [{"send_id": send_id, "friend_hash": h, "created_at": utcnow()} for h in hashes]
    statement = (
        maker(ForwardRecipient)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["send_id", "friend_hash"])
        .returning(ForwardRecipient.friend_hash)
    )
    return set(session.scalars(statement))
