"""Who a claimed batch goes to: its queued recipients who are still active members of the list.

Loaded fresh for every batch (never the whole audience), so someone who unsubscribed, bounced
or complained after the freeze is left out, and a worker holds at most one batch of people.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, select, text

from mailer.core.models import RecipientState, SendRecipient
from mailer.sending.payload import Recipient
from subscribers.models import Membership, MembershipStatus, Status, Subscriber

if TYPE_CHECKING:
    from mailer.sending.batches import Claim

# PostgreSQL: one round trip, and the ids travel inside the server as one array (no 1,000
# placeholders for psycopg to rewrite); ANY(ARRAY(...)) keeps the plan on the primary key.
_LOAD_PG = text(
    "SELECT s.id, s.email, s.name, s.status, m.status, s.link_key FROM subscribers s "
    "LEFT JOIN memberships m ON m.subscriber_id = s.id AND m.list_id = :list_id "
    "WHERE s.id = ANY(ARRAY(SELECT r.subscriber_id FROM send_recipients r "
    "WHERE r.send_id = :send_id AND r.batch_seq = :seq AND r.state = :queued))"
)


def load_recipients(
    engine: Engine, claim: Claim, list_id: int
) -> tuple[list[Recipient], list[int]]:
    """The batch's queued recipients, split into still-active ones and those who left since."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            params = {"list_id": list_id, "send_id": claim.send_id, "seq": claim.seq}
            rows: list[Any] = list(
                conn.execute(_LOAD_PG, {**params, "queued": RecipientState.QUEUED.value})
            )
            ids: set[int] = set()  # a deleted subscriber's recipient row goes with it (CASCADE)
        else:
            ids, rows = _load_sqlite(conn, claim, list_id)
    active: list[Recipient] = []
    gone = sorted(ids - {row[0] for row in rows})  # deleted meanwhile: nobody to mail
    for sid, email, name, status, membership, link_key in rows:
        if status == Status.ACTIVE and membership == MembershipStatus.SUBSCRIBED:
            active.append(Recipient(sid, email, name or "", link_key))
        else:
            gone.append(sid)
    active.sort(key=lambda r: r.subscriber_id)
    return active, gone


def _load_sqlite(conn: Connection, claim: Claim, list_id: int) -> tuple[set[int], list[Any]]:
    """Two index lookups rather than one join: the batch's ids through (send_id, batch_seq), then
    those people by primary key. A join lets SQLite's planner walk the whole primary key."""
    ids = list(
        conn.execute(
            select(SendRecipient.subscriber_id).where(
                SendRecipient.send_id == claim.send_id,
                SendRecipient.batch_seq == claim.seq,
                SendRecipient.state == RecipientState.QUEUED,
            )
        ).scalars()
    )
    if not ids:
        return set(), []
    rows = conn.execute(
        select(Subscriber.id, Subscriber.email, Subscriber.name, Subscriber.status)
        .add_columns(Membership.status, Subscriber.link_key)
        .outerjoin(
            Membership,
            (Membership.subscriber_id == Subscriber.id) & (Membership.list_id == list_id),
        )
        .where(Subscriber.id.in_(ids))
    ).all()
    return set(ids), list(rows)
