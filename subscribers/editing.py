"""Changing one person (the API's PATCH, the workspace) and erasing them (the right to erasure).

An edit never re-activates anyone: the only status it can set is `unsubscribed`. Erasure keeps
the row as an anonymous tombstone (its id, status and memberships), so the counts of past sends
still add up, and removes everything that says who the person was.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from subscribers import search
from subscribers.errors import SubscriberError
from subscribers.models import (
    Membership,
    MembershipStatus,
    Status,
    Subscriber,
    SubscriberTag,
    utcnow,
)
from subscribers.status import unsubscribe_everywhere
from subscribers.store import (
    MAX_NAME,
    _add_tags,
    _check_attrs,
    check_timezone,
    find_list,
    join_list,
)

ERASED_DOMAIN = "erased.invalid"


@dataclass(frozen=True, slots=True)
class Changes:
    """What a PATCH may change; None leaves the field as it is."""

    name: str | None = None
    timezone: str | None = None
    attrs: dict[str, Any] | None = None  # replaces every attribute
    tags: list[str] | None = None  # replaces every tag
    lists: list[str] | None = None  # lists to join (a list once left stays left)
    status: str | None = None  # only "unsubscribed"


def update_subscriber(session: Session, person: Subscriber, changes: Changes) -> None:
    if changes.name is not None:
        if len(changes.name) > MAX_NAME:
            raise SubscriberError(f"name: longer than {MAX_NAME} characters")
        person.name = changes.name.strip()
    if changes.timezone is not None:
        person.timezone = check_timezone(changes.timezone) if changes.timezone else None
    if changes.attrs is not None:
        person.attrs = _check_attrs(changes.attrs)
    if changes.tags is not None:
        session.execute(delete(SubscriberTag).where(SubscriberTag.subscriber_id == person.id))
        session.expire(person, ["tags"])
        _add_tags(session, person, changes.tags)
    for list_name in changes.lists or []:
        found = find_list(session, list_name)
        if found is None:
            raise SubscriberError(f"lists: no list named {list_name!r}")
        join_list(session, person, found)
    if changes.status is not None:
        if changes.status != Status.UNSUBSCRIBED:
            raise SubscriberError("status: only 'unsubscribed' can be set here")
        unsubscribe_everywhere(session, person.id, "api")
    session.flush()


def anonymise(session: Session, person: Subscriber) -> str:
    """Strip the row of everything personal; returns the tombstone's made-up address.

    No leave time is written: erasure is not an unsubscribe from any past send, so the
    reports of earlier sends stay exactly as they were.
    """
    tombstone = f"erased-{person.id}-{secrets.token_hex(6)}@{ERASED_DOMAIN}"
    session.execute(delete(SubscriberTag).where(SubscriberTag.subscriber_id == person.id))
    session.execute(
        update(Membership)
        .where(Membership.subscriber_id == person.id)
        .where(Membership.status != MembershipStatus.UNSUBSCRIBED)
        .values(status=MembershipStatus.UNSUBSCRIBED, unsubscribe_source="erased")
    )
    session.execute(
        update(Subscriber)
        .where(Subscriber.id == person.id)
        .values(
            email=tombstone,
            email_norm=tombstone,
            name="",
            attrs={},
            timezone=None,
            consent_source="erased",
            consent_ip=None,
            status=Status.UNSUBSCRIBED,
            status_reason="erased",
            updated_at=utcnow(),
        )
    )
    search.forget_deleted(session)
    session.expire(person)
    return tombstone
