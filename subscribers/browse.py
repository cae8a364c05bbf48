"""Paging through subscribers (keyset on id, so pages never skip or repeat) and one profile.

A cursor is the last id of the previous page; rows added or removed meanwhile shift nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import (
    ColumnElement,
    Integer,
    Row,
    Select,
    and_,
    bindparam,
    exists,
    func,
    select,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from subscribers import search
from subscribers.errors import SubscriberError
from subscribers.models import (
    MailingList,
    Membership,
    MembershipStatus,
    Subscriber,
    SubscriberTag,
)
from subscribers.segments import compile_segment
from subscribers.store import check_status, normalize_email

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
    """Up to `limit` people after `cursor`, in id order, filtered by list, status, text (a part
    of the address or name, `subscribers.search`) and a segment expression (a bad one is a
    SegmentError naming its column)."""
    after, limit = read_cursor(cursor), max(1, min(limit, MAX_PAGE))
    values: dict[str, Any] = {"after": after, "rows": limit + 1}
    if list_name:
        values["list_id"] = _list_id(session, list_name)
    if status:
        values["status"] = check_status(status)
    text = q.strip().lower() if q else ""
    if text:
        values["pattern"] = "%" + escape_like(text) + "%"
        values["match"] = search.phrase(text)
    dialect = session.get_bind().dialect.name
    how = _text_filter(dialect, text)
    shape = (dialect, bool(list_name), bool(status))
    extra = compile_segment(segment) if segment and segment.strip() else None
    if how == "window":
        rows = _windowed(session, shape, values, extra)
    else:
        rows = _run(session, _page_query(*shape, how), values, extra)
    more = len(rows) > limit
    rows = rows[:limit]
    items = [
        Profile(
            r.email, r.name, r.status, r.timezone, _listed(r.lists), _listed(r.tags), r.attrs,
            r.created_at,
        )
        for r in rows
    ]  # fmt: skip
    return Page(items, str(rows[-1].id) if more else None)


def _text_filter(dialect: str, text: str) -> str:
    """How the page filters by text: not at all, a walk in id order, the FTS5 table (SQLite),
    or a window walked and then the trigram indexes (PostgreSQL)."""
    if not text:
        return ""
    if not search.uses_index(text):
        return "scan"
    return "fts" if dialect == "sqlite" else "window"


def _run(
    session: Session, query: Select[Any], values: dict[str, Any], extra: ColumnElement[bool] | None
) -> list[Row[Any]]:
    if extra is not None:  # the segment's own literals: not part of the cached shape
        query = query.where(extra)
    return list(session.execute(query, values).all())


def _windowed(
    session: Session,
    shape: tuple[str, bool, bool],
    values: dict[str, Any],
    extra: ColumnElement[bool] | None,
) -> list[Row[Any]]:
    """PostgreSQL: the matches among the next WINDOW ids, then (if they do not fill the page)
    those after the window from the trigram indexes; together, the first matches in id order."""
    skip = {"after": values["after"], "skip": search.WINDOW - 1}
    upto = session.execute(_WINDOW_END, skip).scalar()
    if upto is None:  # the window holds the rest of the table: a walk to its end
        return _run(session, _page_query(*shape, "scan"), values, extra)
    rows = _run(session, _page_query(*shape, "walk"), values | {"upto": upto}, extra)
    wanted = values["rows"] - len(rows)
    if wanted > 0:
        later = values | {"after": upto, "rows": wanted}
        rows += _run(session, _page_query(*shape, "trigram"), later, extra)
    return rows


_WINDOW_END = (
    select(Subscriber.id)
    .where(Subscriber.id > bindparam("after"))
    .order_by(Subscriber.id)
    .offset(bindparam("skip", type_=Integer))
    .limit(1)
)


@lru_cache(maxsize=64)
def _page_query(dialect: str, by_list: bool, by_status: bool, text: str) -> Select[Any]:
    """The page's one statement, built once per shape (its values are bound per call); `text`
    as _text_filter says, or "walk" / "trigram" for a window's two statements."""
    query = select(*_COLUMNS, *_names(dialect))
    order: ColumnElement[Any] = Subscriber.id.expression
    if text == "fts":  # FTS5 hands its matches over in rowid order: the LIMIT stops it early
        found = search.SEARCH.c
        query = query.select_from(search.SEARCH).join(Subscriber, Subscriber.id == found.rowid)
        query = query.where(found.subscriber_search.op("MATCH")(bindparam("match")))
        order = found.rowid
    query = query.where(order > bindparam("after"))
    if by_list:
        member = and_(
            Membership.subscriber_id == Subscriber.id, Membership.list_id == bindparam("list_id")
        )
        query = query.where(exists().where(member))
    if by_status:
        query = query.where(Subscriber.status == bindparam("status"))
    if text in ("scan", "trigram"):
        query = query.where(search.matches())
    elif text == "walk":
        query = query.where(search.matches(indexable=False), Subscriber.id <= bindparam("upto"))
    if text == "trigram":  # not in id order: the primary key's walk is what the window did
        order = Subscriber.id + 0
    return query.order_by(order).limit(bindparam("rows", type_=Integer))


def _list_id(session: Session, name: str) -> int:
    """As find_list (case-insensitive), without loading the lists as objects."""
    wanted = name.strip().casefold()
    for list_id, list_name in session.execute(_LISTS):
        if list_name.casefold() == wanted:
            return int(list_id)
    raise SubscriberError(f"list: no list named {name!r}")


_LISTS = select(MailingList.id, MailingList.name).order_by(MailingList.id)


def _names(dialect: str) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    """Each person's subscribed lists and tags as one value each, inside the page's own query:
    two index lookups per row cost less than two more queries with a 100-item IN list."""
    if dialect == "sqlite":
        lists, tags = (
            func.json_group_array(MailingList.name),
            func.json_group_array(SubscriberTag.tag),
        )
    else:  # sorted here, in the database's own order, like the profiles' ORDER BY
        lists = func.array_agg(aggregate_order_by(MailingList.name, MailingList.name))
        tags = func.array_agg(aggregate_order_by(SubscriberTag.tag, SubscriberTag.tag))
    on_lists = (
        select(lists)
        .select_from(Membership)
        .join(MailingList, MailingList.id == Membership.list_id)
        .where(Membership.subscriber_id == Subscriber.id)
        .where(Membership.status == MembershipStatus.SUBSCRIBED)
    )
    tagged = select(tags).where(SubscriberTag.subscriber_id == Subscriber.id)
    return (
        on_lists.scalar_subquery().label("lists"),
        tagged.scalar_subquery().label("tags"),
    )


def _listed(value: str | list[str] | None) -> list[str]:
    """SQLite's JSON array (unordered; sorted in code-point order, SQLite's own) or
    PostgreSQL's array (already sorted); no rows is an empty list."""
    if value is None or value == "[]":
        return []
    return sorted(orjson.loads(value)) if isinstance(value, str) else list(value)


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
