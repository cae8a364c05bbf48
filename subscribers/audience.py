"""Who a send may reach: active subscribers, subscribed to the list, matching the segment."""

from __future__ import annotations

from sqlalchemy import Select, and_, select

from subscribers.models import Membership, MembershipStatus, Status, Subscriber


def audience_query(list_id: int, segment: str | None = None) -> Select[int, str | None]:
    """SELECT id, timezone of the send's audience; the segment only narrows active members."""
    query = (
        select(Subscriber.id, Subscriber.timezone)
        .join(
            Membership,
            and_(Membership.subscriber_id == Subscriber.id, Membership.list_id == list_id),
        )
        .where(Subscriber.status == Status.ACTIVE, Membership.status == MembershipStatus.SUBSCRIBED)
    )
    if segment:
        from subscribers.segments import compile_segment

        query = query.where(compile_segment(segment))
    return query
