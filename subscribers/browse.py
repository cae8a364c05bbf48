"""Paging through subscribers (keyset on id, so pages never skip or repeat) and one profile.

A cursor is the last id of the previous page; rows added or removed meanwhile shift nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, exists, or_, select
from sqlalchemy.orm import Session

from subscribers.errors import SubscriberError
from subscribers.models import (
    MailingList,
    Membership,
    MembershipStatus,
    Subscriber,
    SubscriberTag,
)
from subscribers.segments import compile_segment
from subscribers.store import check_status, find_list, normalize_email

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


_COLUMNS = (
    Subscriber.id,
    Subscriber.email,
    Subscriber.name,
    Subscriber.status,
    Subscriber.timezone,
    Subscriber.attrs,
    Subscriber.created_at,
)


def page_subscribers(
    session: Session,
    list_name: str | None = None,
    status: str | None = None,
    q: str | None = None,
    cursor: str | None = None,
    limit: int = 100,
    segment: str | None = None,
) -> Page:
    """Up to `limit` people after `cursor`, in id order, filtered by list, status, text and a
    segment expression (a bad one is a SegmentError naming its column)."""
    after, limit = read_cursor(cursor), max(1, min(limit, MAX_PAGE))
    query = select(*_COLUMNS).where(Subscriber.id > after).order_by(Subscriber.id)
    if segment and segment.strip():
        query = query.where(compile_segment(segment))
    if list_name:
        found = find_list(session, list_name)
        if found is None:
            raise SubscriberError(f"list: no list named {list_name!r}")
        member = and_(Membership.subscriber_id == Subscriber.id, Membership.list_id == found.id)
        query = query.where(exists().where(member))
    if status:
        query = query.where(Subscriber.status == check_status(status))
    if q:
        pattern = "%" + escape_like(q.strip().lower()) + "%"
        query = query.where(
            or_(
                Subscriber.email_norm.like(pattern, escape="\\"),
                Subscriber.name.ilike(pattern, escape="\\"),
            )
        )
    rows = session.execute(query.limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(_profiles(session, rows), str(rows[-1].id) if more else None)


def escape_like(text: str) -> str:
    """`text` matched literally inside a LIKE pattern (escape character: backslash)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _profiles(session: Session, rows: Sequence[Row[Any]]) -> list[Profile]:
    """Profiles with their lists and tags: three queries however many people (no ORM objects,
    which cost more than the queries on a page of a hundred)."""
    ids = [row.id for row in rows]
    lists: dict[int, list[str]] = defaultdict(list)
    tags: dict[int, list[str]] = defaultdict(list)
    if ids:
        on_lists = (
            select(Membership.subscriber_id, MailingList.name)
            .join(MailingList, MailingList.id == Membership.list_id)
            .where(Membership.subscriber_id.in_(ids))
            .where(Membership.status == MembershipStatus.SUBSCRIBED)
            .order_by(MailingList.name)
        )
        for subscriber_id, name in session.execute(on_lists):
            lists[subscriber_id].append(name)
        tagged = select(SubscriberTag.subscriber_id, SubscriberTag.tag).where(
            SubscriberTag.subscriber_id.in_(ids)
        )
        for subscriber_id, tag in session.execute(tagged.order_by(SubscriberTag.tag)):
            tags[subscriber_id].append(tag)
    return [
        Profile(
            r.email, r.name, r.status, r.timezone, lists[r.id], tags[r.id], r.attrs, r.created_at
        )
        for r in rows
    ]


def profiles(session: Session, people: list[Subscriber]) -> list[Profile]:
    """Profiles of `people` (already loaded, e.g. just added or changed)."""
    rows = session.execute(select(*_COLUMNS).where(Subscriber.id.in_([p.id for p in people])))
    by_id = {row.id: row for row in rows}
    return _profiles(session, [by_id[p.id] for p in people])


def profile(session: Session, email: str) -> Profile | None:
    rows = session.execute(select(*_COLUMNS).where(Subscriber.email_norm == normalize_email(email)))
    found = _profiles(session, rows.all())
    return found[0] if found else None
