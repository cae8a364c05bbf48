"""The SQL side of an import batch: load the people a batch names, write back what changed."""

from __future__ import annotations

from collections.abc import Iterable
from operator import itemgetter
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from subscribers.import_rows import Person
from subscribers.lists import create_list, require_list
from subscribers.models import (
    SUPPRESSED,
    Membership,
    MembershipStatus,
    Status,
    Subscriber,
    SubscriberTag,
    new_link_key,
    utcnow,
)
from subscribers.store import find_list

_subscribers = cast(Table, Subscriber.__table__)
_tags = cast(Table, SubscriberTag.__table__)
_memberships = cast(Table, Membership.__table__)


def list_id(engine: Engine, name: str, create: bool = False) -> int:
    """The id of the list; an unknown one is refused (a typo must not become a public list)
    unless `create` says to make it."""
    with Session(engine) as session, session.begin():
        if create and find_list(session, name) is None:
            return create_list(session, name).id
        return require_list(session, name).id


def refresh_statistics(engine: Engine) -> None:
    """Let the query planner see the new row counts, so segment counts pick good plans."""
    tables = ("subscribers", "subscriber_tags", "memberships")
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA analysis_limit=1000")  # sample: milliseconds, not seconds
            for table in tables:
                conn.exec_driver_sql(f"ANALYZE {table}")
        else:
            conn.exec_driver_sql(f"ANALYZE {', '.join(tables)}")


def load_people(conn: Connection, emails: set[str], list_id: int | None) -> dict[str, Person]:
    """The stored people among these normalised emails, with their tags and list membership."""
    if not emails:
        return {}
    columns = [Subscriber.id, Subscriber.email, Subscriber.email_norm, Subscriber.name]
    columns += [Subscriber.timezone, Subscriber.status, Subscriber.attrs]
    query = select(*columns).where(Subscriber.email_norm.in_(emails))
    people: dict[str, Person] = {}
    by_id: dict[int, Person] = {}
    for row in conn.execute(query):
        person = Person(row.id, row.email, row.name, row.timezone, Status(row.status), row.attrs)
        people[row.email_norm] = by_id[row.id] = person
    if by_id:
        _load_tags_and_lists(conn, by_id, list_id)
    return people


def _load_tags_and_lists(conn: Connection, by_id: dict[int, Person], list_id: int | None) -> None:
    ids = list(by_id)
    tags = select(SubscriberTag.subscriber_id, SubscriberTag.tag)
    for subscriber_id, tag in conn.execute(tags.where(SubscriberTag.subscriber_id.in_(ids))):
        by_id[subscriber_id].tags.add(tag)
    if list_id is None:
        return
    members = select(Membership.subscriber_id).where(
        Membership.list_id == list_id, Membership.subscriber_id.in_(ids)
    )
    for (subscriber_id,) in conn.execute(members):
        by_id[subscriber_id].member = True


def save_people(conn: Connection, people: list[Person], list_id: int | None) -> None:
    """Bulk INSERT the new, bulk UPDATE the changed, then add tags and memberships."""
    now = utcnow()
    new = [p for p in people if p.id is None]
    if new:
        _insert_new(conn, new, now)
    changed = [p for p in people if p.id is not None and p.dirty]
    for group in (
        [p for p in changed if not p.status_changed],
        [p for p in changed if p.status_changed],
    ):
        if group:
            conn.execute(
                update(_subscribers).where(_subscribers.c.id == bindparam("person_id")),
                [_changes(p, now) for p in group],
            )
    tag_rows = [{"subscriber_id": p.id, "tag": t} for p in people for t in p.new_tags]
    if tag_rows:
        bulk_insert(conn, _tags, tag_rows, {})
    if list_id is not None:
        _join(conn, [p for p in people if p.joined], list_id, now)


def _insert_new(conn: Connection, new: list[Person], now: Any) -> None:
    rows = [
        {
            "email": p.email,
            "email_norm": p.email.strip().lower(),
            "name": p.name,
            "status": p.status.value,
            "timezone": p.timezone,
            "attrs": p.attrs,
            "unsubscribed_at": now if p.status == Status.UNSUBSCRIBED else None,
            "link_key": new_link_key(),
        }
        for p in new
    ]
    shared = {"consent_source": "import", "consent_at": now, "created_at": now}
    shared |= {"updated_at": now, "bounce_count": 0, "soft_bounce_count": 0}
    # A plain executemany: RETURNING with a guaranteed order makes SQLite go row by row.
    bulk_insert(conn, _subscribers, rows, shared)
    by_email = {row["email_norm"]: person for row, person in zip(rows, new, strict=True)}
    query = select(Subscriber.id, Subscriber.email_norm)
    for new_id, email_norm in conn.execute(query.where(Subscriber.email_norm.in_(by_email))):
        by_email[email_norm].id = new_id


def _changes(person: Person, now: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "person_id": person.id,
        "name": person.name,
        "timezone": person.timezone,
        "attrs": person.attrs,
        "status": person.status.value,
        "updated_at": now,
    }
    if person.status_changed:  # toward a suppression, or pending to active
        values["status_reason"] = "import"
        values["unsubscribed_at"] = now if person.status == Status.UNSUBSCRIBED else None
    return values


def _join(conn: Connection, people: Iterable[Person], list_id: int, now: Any) -> None:
    rows = [{"subscriber_id": p.id, "status": _membership_status(p.status)} for p in people]
    if rows:
        bulk_insert(conn, _memberships, rows, {"list_id": list_id, "created_at": now})


def _membership_status(status: Status) -> str:
    left = status in SUPPRESSED
    return (MembershipStatus.UNSUBSCRIBED if left else MembershipStatus.SUBSCRIBED).value


def bulk_insert(
    conn: Connection, table: Table, rows: list[dict[str, Any]], shared: dict[str, Any]
) -> None:
    """INSERT many rows through the driver's executemany, converting each value once.

    `conn.execute(insert(table), rows)` spends most of its time in per-row parameter
    bookkeeping. Here the values every row shares (the batch's timestamp, the list id) are
    converted once, and per row only the columns whose type needs it (JSON, datetimes).
    """
    dialect = conn.dialect
    keys = [*rows[0], *shared]
    compiled = insert(table).compile(dialect=dialect, column_keys=keys)
    processors = {key: table.c[key].type._cached_bind_processor(dialect) for key in keys}
    constant = {k: (p(shared[k]) if (p := processors[k]) else shared[k]) for k in shared}
    converters = [(k, p) for k in rows[0] if (p := processors[k]) is not None]
    for row in rows:  # the caller's rows, built for this call: converted in place
        for key, convert in converters:
            row[key] = convert(row[key])
        row.update(constant)
    if compiled.positional:
        order = compiled.positiontup or []
        pick = itemgetter(*order) if len(order) > 1 else lambda row: (row[order[0]],)
        conn.exec_driver_sql(compiled.string, [pick(row) for row in rows])
    else:
        conn.exec_driver_sql(compiled.string, rows)
