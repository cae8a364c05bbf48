"""Paging through subscribers (keyset on id, so pages never skip or repeat) and one profile.

A cursor is the last id of the previous page; rows added or removed meanwhile shift nothing.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session

from subscribers.errors import SubscriberError
from subscribers.models import MailingList, Membership, MembershipStatus, Subscriber
from subscribers.store import check_status, find_list, find_subscriber, normalize_email

MAX_PAGE = 500


@dataclass(frozen=True, slots=True)
class Profile:
    """One person as the API and the workspace show them."""

    email: str
    name: str
    status: str
    timezone: str | None
    lists: list[str]  # lists they are subscribed to
    tags: list[str]
    attrs: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Page:
    items: list[Profile]
    next_cursor: str | None


def read_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    if not cursor.isascii() or not cursor.isdigit() or len(cursor) > 18:
        raise SubscriberError(f"cursor: {cursor[:40]!r} is not a cursor from a previous page")
    return int(cursor)


def page_subscribers(
    session: Session,
    list_name: str | None = None,
    status: str | None = None,
    q: str | None = None,
    cursor: str | None = None,
    limit: int = 100,
) -> Page:
    """Up to `limit` people after `cursor`, in id order, filtered by list, status and text."""
    after, limit = read_cursor(cursor), max(1, min(limit, MAX_PAGE))
    query = select(Subscriber).where(Subscriber.id > after).order_by(Subscriber.id)
    if list_name:
        found = find_list(session, list_name)
        if found is None:
            raise SubscriberError(f"list: no list named {list_name!r}")
        member = and_(Membership.subscriber_id == Subscriber.id, Membership.list_id == found.id)
        query = query.where(exists().where(member))
    if status:
        query = query.where(Subscriber.status == check_status(status))
    if q:
        pattern = (
            "%"
            + q.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            + "%"
        )
        query = query.where(
            or_(
                Subscriber.email_norm.like(pattern, escape="\\"),
                Subscriber.name.ilike(pattern, escape="\\"),
            )
        )
    rows = list(session.scalars(query.limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    items = profiles(session, rows)
    return Page(items, str(rows[-1].id) if more else None)


def profiles(session: Session, people: list[Subscriber]) -> list[Profile]:
    """Profiles of `people` with their lists, in two queries whatever their number."""
    lists: dict[int, list[str]] = defaultdict(list)
    if people:
        query = (
            select(Membership.subscriber_id, MailingList.name)
            .join(MailingList, MailingList.id == Membership.list_id)
            .where(Membership.subscriber_id.in_([p.id for p in people]))
            .where(Membership.status == MembershipStatus.SUBSCRIBED)
            .order_by(MailingList.name)
        )
        for subscriber_id, name in session.execute(query):
            lists[subscriber_id].append(name)
    return [
        Profile(
            p.email,
            p.name,
            p.status,
            p.timezone,
            lists[p.id],
            p.tag_names,
            dict(p.attrs),
            p.created_at,
        )
        for p in people
    ]


def profile(session: Session, email: str) -> Profile | None:
    person = find_subscriber(session, normalize_email(email))
    return profiles(session, [person])[0] if person is not None else None
