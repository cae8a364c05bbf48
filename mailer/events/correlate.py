"""Tie stored events to their send and subscriber: custom_args first, then address and message id.

A custom_arg subscriber id only counts when that subscriber's address is the event's address
(a test copy to someone else must never bounce the subscriber it was modelled on).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from mailer.core.bulk_sql import among, is_postgres
from mailer.core.models import Batch, Event
from subscribers.models import Subscriber

_CHUNK = 500


@dataclass(frozen=True, slots=True)
class Claimed:
    """A claimed event, as the policy sees it."""

    id: int
    event: str
    email: str
    subscriber_id: int | None
    send_id: int | None
    occurred_at: datetime
    bounce_type: str | None
    reason: str | None
    sg_message_id: str | None
    data: dict[str, Any]


CLAIMED_COLUMNS = (
    Event.id,
    Event.event,
    Event.email,
    Event.subscriber_id,
    Event.send_id,
    Event.occurred_at,
    Event.bounce_type,
    Event.reason,
    Event.sg_message_id,
    Event.data,
)


def message_prefix(sg_message_id: str | None) -> str | None:
    """SendGrid's X-Message-Id is the part of sg_message_id before the first dot."""
    if not sg_message_id:
        return None
    return sg_message_id.split(".", 1)[0] or None


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def _people(session: Session, column: Any, keys: set[Any]) -> list[Any]:
    """(id, email_norm, status) of the subscribers whose `column` is one of `keys`."""
    found: list[Any] = []
    columns = (Subscriber.id, Subscriber.email_norm, Subscriber.status)
    postgres = is_postgres(session)
    for chunk in _chunks(sorted(keys)):
        query = select(*columns).where(among(column, chunk, postgres))
        found.extend(session.execute(query).all())
    return found


def _sends_by_message(session: Session, prefixes: set[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in _chunks(sorted(prefixes)):
        wanted = among(Batch.message_id, chunk, is_postgres(session))
        query = select(Batch.message_id, Batch.send_id).where(wanted)
        found.update({row.message_id: row.send_id for row in session.execute(query)})
    return found


def correlate(session: Session, rows: Sequence[Any]) -> tuple[list[Claimed], dict[int, str]]:
    """Fill in (or correct) subscriber_id and send_id, and write the changes back; also return
    the current status of every subscriber involved."""
    claimed = [Claimed(**row._asdict()) for row in rows]
    named = {c.subscriber_id for c in claimed if c.subscriber_id}
    people = _people(session, Subscriber.id, named)
    emails = {p.id: p.email_norm for p in people}
    trusted = {c.id for c in claimed if c.subscriber_id and emails.get(c.subscriber_id) == c.email}
    others = _people(
        session, Subscriber.email_norm, {c.email for c in claimed if c.id not in trusted}
    )
    by_email = {p.email_norm: p.id for p in others}
    statuses = {p.id: p.status for p in (*people, *others)}
    prefixes = {message_prefix(c.sg_message_id) for c in claimed if c.send_id is None}
    by_message = _sends_by_message(session, {p for p in prefixes if p})
    result: list[Claimed] = []
    changes: list[dict[str, Any]] = []
    for item in claimed:
        subscriber_id = item.subscriber_id if item.id in trusted else by_email.get(item.email)
        send_id = item.send_id
        if send_id is None:
            send_id = by_message.get(message_prefix(item.sg_message_id) or "")
        if (subscriber_id, send_id) != (item.subscriber_id, item.send_id):
            item = replace(item, subscriber_id=subscriber_id, send_id=send_id)
            changes.append({"b_id": item.id, "b_sub": subscriber_id, "b_send": send_id})
        result.append(item)
    if changes:
        table = Event.__table__
        assert isinstance(table, Table)
        session.execute(
            table.update()
            .where(table.c.id == bindparam("b_id"))
            .values(subscriber_id=bindparam("b_sub"), send_id=bindparam("b_send")),
            changes,
        )
    return result, statuses
