"""Changes of a subscriber's status and list membership, each recorded with time and source."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, bindparam, select, update
from sqlalchemy.orm import Session

from subscribers.models import SUPPRESSED, Membership, MembershipStatus, Status, Subscriber, utcnow

# Built once: the one-click unsubscribe runs it on a bare Connection, the busiest web route.
_LEAVE_LIST = (
    update(Membership)
    .where(
        Membership.subscriber_id == bindparam("b_subscriber_id"),
        Membership.list_id == bindparam("b_list_id"),
        Membership.status != MembershipStatus.UNSUBSCRIBED,
    )
    .values(
        status=MembershipStatus.UNSUBSCRIBED,
        unsubscribed_at=bindparam("b_when"),
        unsubscribe_source=bindparam("b_source"),
    )
)


def unsubscribe_from_list(
    session: Session | Connection,
    subscriber_id: int,
    list_id: int,
    source: str,
    when: datetime | None = None,
) -> bool:
    """Leave one list; True if anything changed (so a repeat is a no-op)."""
    params = {
        "b_subscriber_id": subscriber_id,
        "b_list_id": list_id,
        "b_when": when or utcnow(),
        "b_source": source,
    }
    result = session.execute(_LEAVE_LIST, params)
    return bool(result.rowcount)  # type: ignore[attr-defined]


def unsubscribe_everywhere(
    session: Session, subscriber_id: int, source: str, when: datetime | None = None
) -> bool:
    """Global opt-out: status `unsubscribed` and every membership left."""
    when = when or utcnow()
    changed = _set_status(session, subscriber_id, Status.UNSUBSCRIBED, source, when)
    session.execute(
        update(Membership)
        .where(
            Membership.subscriber_id == subscriber_id,
            Membership.status != MembershipStatus.UNSUBSCRIBED,
        )
        .values(
            status=MembershipStatus.UNSUBSCRIBED, unsubscribed_at=when, unsubscribe_source=source
        )
    )
    return changed


def suppress(
    session: Session, subscriber_id: int, status: Status, reason: str, when: datetime | None = None
) -> bool:
    """Bounced or complained: never mailed again, whatever list. Stronger states are kept."""
    if status not in SUPPRESSED:
        raise ValueError(f"{status} is not a suppression status")
    return _set_status(session, subscriber_id, status, reason, when or utcnow())


def resubscribe(session: Session, subscriber_id: int, list_ids: list[int]) -> None:
    """The subscriber's own choice on the preferences page: active again on these lists."""
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None:
        return
    if subscriber.status in (Status.UNSUBSCRIBED, Status.PENDING):
        subscriber.status = Status.ACTIVE
        subscriber.unsubscribed_at = None
        subscriber.status_reason = "resubscribed"
    for list_id in list_ids:
        membership = session.get(Membership, (list_id, subscriber_id))
        if membership is None:
            session.add(Membership(list_id=list_id, subscriber_id=subscriber_id))
        else:
            membership.status = MembershipStatus.SUBSCRIBED
            membership.unsubscribed_at = None
            membership.unsubscribe_source = None


# Rank of each status: a change never goes from a higher rank to a lower one here, so a late
# `unsubscribe` cannot hide a complaint and nothing but `resubscribe` undoes a suppression.
RANK = {
    Status.PENDING: 0,
    Status.ACTIVE: 0,
    Status.UNSUBSCRIBED: 1,
    Status.BOUNCED: 2,
    Status.COMPLAINED: 3,
}


def may_change(current: Status, status: Status) -> bool:
    return current == Status.ACTIVE or RANK[current] < RANK[status]


def _set_status(
    session: Session, subscriber_id: int, status: Status, reason: str, when: datetime
) -> bool:
    current = session.execute(
        select(Subscriber.status).where(Subscriber.id == subscriber_id)
    ).scalar_one_or_none()
    if current is None or not may_change(Status(current), status):
        return False
    values: dict[str, object] = {"status": status, "status_reason": reason, "updated_at": when}
    if status == Status.UNSUBSCRIBED:
        values["unsubscribed_at"] = when
    session.execute(update(Subscriber).where(Subscriber.id == subscriber_id).values(**values))
    return True
