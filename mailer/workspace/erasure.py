"""Erasure in the mailer's own tables: events, raw webhook bodies, sends, forwards.

Events keep their kind, time and send (so reports still count them) but lose the address and
the payload; raw webhook bodies and error texts get the address replaced by the tombstone's.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from mailer.core.models import Batch, Event, Forward, Send, WebhookPost
from subscribers.browse import escape_like

_PERSONAL_KEYS = frozenset({"ip", "useragent", "url", "reason", "response", "status"})


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


def scrub_post(body: str, norm: str, tombstone: str) -> str:
    """A raw webhook body: the person's events lose what identifies them (address, IP,
    browser, clicked URL, bounce text); anything else naming the address gets the tombstone."""
    try:
        events = json.loads(body)
    except ValueError:
        return _swap(body, norm, tombstone)
    if isinstance(events, list):
        for event in events:
            if isinstance(event, dict) and str(event.get("email", "")).lower() == norm:
                for key in _PERSONAL_KEYS & event.keys():
                    del event[key]
                event["email"] = tombstone
        body = json.dumps(events, separators=(",", ":"))
    return _swap(body, norm, tombstone)


def _replace_in(
    session: Session, column: InstrumentedAttribute[Any], norm: str, tombstone: str
) -> None:
    """Replace the address (any letter case) wherever it occurs in this text column."""
    table = column.class_
    pattern = "%" + escape_like(norm) + "%"
    rows = session.execute(
        select(table.id, column).where(func.lower(column).like(pattern, escape="\\"))
    ).all()
    scrub = scrub_post if table is WebhookPost else _swap
    for row_id, text in rows:
        session.execute(
            update(table)
            .where(table.id == row_id)
            .values({column.key: scrub(text, norm, tombstone)})
        )


def _swap(text: str, norm: str, tombstone: str) -> str:
    lowered, out, start = text.lower(), [], 0
    while (found := lowered.find(norm, start)) >= 0:
        out.append(text[start:found])
        out.append(tombstone)
        start = found + len(norm)
    out.append(text[start:])
    return "".join(out)
