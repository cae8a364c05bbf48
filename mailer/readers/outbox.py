"""The message outbox: single messages (a forwarded copy, a sign-up confirmation) are written
here first, in the request's transaction, and only then queued.

A queue that loses the task (a Redis restart) loses no mail: the scheduler re-queues rows that
were dispatched long ago and are still unsent. A friend's address lives in its row only until
the message has gone; then the row keeps a keyed hash, for the count and nothing else.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from mailer.core.models import OutboxKind, OutboxMessage
from mailer.core.privacy import address_hash
from subscribers.db import transaction

MAX_ATTEMPTS = 8  # then the row keeps its error for an operator, and is not re-queued


def add_forward(
    session: Session, send_id: int, forwarder_id: int, friend: str, note: str
) -> OutboxMessage:
    args = {"forwarder_id": forwarder_id, "friend": friend, "note": note}
    return _add(session, OutboxMessage(kind=OutboxKind.FORWARD, send_id=send_id, args=args))


def add_confirmation(session: Session, subscriber_id: int, list_id: int) -> OutboxMessage:
    args = {"subscriber_id": subscriber_id, "list_id": list_id}
    return _add(session, OutboxMessage(kind=OutboxKind.CONFIRM, args=args))


def _add(session: Session, row: OutboxMessage) -> OutboxMessage:
    row.attempts = 0
    session.add(row)
    session.flush()
    return row


def mark_dispatched(engine: Engine, ids: list[int], now: datetime) -> None:
    if ids:
        with transaction(engine) as session:
            session.execute(
                update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(dispatched_at=now)
            )


def stale(session: Session, now: datetime, after: timedelta, limit: int = 500) -> list[int]:
    """Unsent rows never queued, or queued longer ago than `after` (their task was lost)."""
    cutoff = now - after
    return list(
        session.scalars(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.sent_at.is_(None),
                OutboxMessage.attempts < MAX_ATTEMPTS,
                # Never queued (the request died right after its commit) or queued long ago.
                (OutboxMessage.dispatched_at.is_(None) & (OutboxMessage.created_at < cutoff))
                | (OutboxMessage.dispatched_at < cutoff),
            )
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
    )


def finish(row: OutboxMessage, secret_key: str, now: datetime, error: str | None = None) -> None:
    """Sent (or skipped, with why): the friend's address is replaced by its keyed hash."""
    row.sent_at = now
    row.error = error
    _forget_friend(row, secret_key)


def failed(row: OutboxMessage, error: str, permanent: bool, secret_key: str) -> None:
    """A failed attempt; after the last one the row stays for an operator, without the
    friend's address (nothing will be sent to it any more)."""
    row.attempts = MAX_ATTEMPTS if permanent else row.attempts + 1
    row.error = error[:2000]
    if row.attempts >= MAX_ATTEMPTS:
        _forget_friend(row, secret_key)


def _forget_friend(row: OutboxMessage, secret_key: str) -> None:
    friend = row.args.get("friend")
    if friend:
        kept = {k: v for k, v in row.args.items() if k not in ("friend", "note")}
        row.args = {**kept, "friend_hash": address_hash(secret_key, friend)}
