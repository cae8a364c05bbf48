"""Erasure in the mailer's own tables: events, raw webhook bodies, sends, forwards.

Events keep their kind, time and send (so reports still count them) but lose the address and
the payload; raw webhook bodies and error texts get the address replaced by the tombstone's.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from mailer.core.models import Batch, Event, Forward, Send, WebhookPost


def scrub_mailer_tables(session: Session, subscriber_id: int, address: str, tombstone: str) -> None:
    norm = address.strip().lower()
    session.execute(
        update(Event)
        .where(or_(Event.subscriber_id == subscriber_id, func.lower(Event.email) == norm))
        .values(email=tombstone, data={}, reason=None, url=None)
        .execution_options(synchronize_session=False)
    )
    session.execute(update(Forward).where(Forward.subscriber_id == subscriber_id).values(ip=None))
    for column in (WebhookPost.body, Send.test_to, Send.error, Batch.error):
        _replace_in(session, column, norm, tombstone)


def _replace_in(
    session: Session, column: InstrumentedAttribute[Any], norm: str, tombstone: str
) -> None:
    """Replace the address (any letter case) wherever it occurs in this text column."""
    table = column.class_
    pattern = "%" + norm.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    rows = session.execute(
        select(table.id, column).where(func.lower(column).like(pattern, escape="\\"))
    ).all()
    for row_id, text in rows:
        session.execute(
            update(table)
            .where(table.id == row_id)
            .values({column.key: _swap(text, norm, tombstone)})
        )


def _swap(text: str, norm: str, tombstone: str) -> str:
    lowered, out, start = text.lower(), [], 0
    while (found := lowered.find(norm, start)) >= 0:
        out.append(text[start:found])
        out.append(tombstone)
        start = found + len(norm)
    out.append(text[start:])
    return "".join(out)
