"""Adding, changing and erasing subscribers, audited by id (the log never holds an address)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from mailer.accounts import audit
from mailer.accounts.principal import Principal, Role
from mailer.core.errors import NotFound
from mailer.workspace.erasure import scrub_mailer_tables
from mailer.workspace.guard import need
from subscribers.browse import Profile, profiles
from subscribers.editing import Changes, anonymise, update_subscriber
from subscribers.errors import SubscriberError
from subscribers.models import Subscriber
from subscribers.store import add_subscriber, find_list, find_subscriber


def existing(session: Session, email: str) -> Subscriber:
    person = find_subscriber(session, email)
    if person is None:
        raise NotFound(f"no subscriber with email {email.strip()[:320]!r}")
    return person


def add(
    session: Session,
    actor: Principal,
    email: str,
    name: str = "",
    lists: list[str] | None = None,
    tags: list[str] | None = None,
    attrs: dict[str, Any] | None = None,
    timezone: str | None = None,
) -> tuple[Profile, bool]:
    """(the person, True if new); someone already there keeps their status (never re-activated)."""
    need(actor, Role.EDITOR)
    for list_name in lists or []:
        if find_list(session, list_name) is None:
            raise SubscriberError(f"lists: no list named {list_name!r}")
    created = find_subscriber(session, email) is None
    person = add_subscriber(
        session, email, name, lists or [], tags or [], attrs, timezone, consent_source=actor.kind,
        consent_ip=actor.ip,
    )  # fmt: skip
    action = "subscriber.add" if created else "subscriber.update"
    audit.record(session, actor, action, f"subscriber #{person.id}")
    return profiles(session, [person])[0], created


def change(session: Session, actor: Principal, email: str, changes: Changes) -> Profile:
    need(actor, Role.EDITOR)
    person = existing(session, email)
    update_subscriber(session, person, changes)
    fields = ",".join(k for k in Changes.__slots__ if getattr(changes, k) is not None)
    audit.record(session, actor, "subscriber.change", f"subscriber #{person.id}", fields)
    session.refresh(person)
    return profiles(session, [person])[0]


def erase(session: Session, actor: Principal, email: str) -> int:
    """Remove the person's data for good; the anonymous row stays so reports add up."""
    need(actor, Role.EDITOR)
    person = existing(session, email)
    address, subscriber_id = person.email, person.id
    tombstone = anonymise(session, person)
    scrub_mailer_tables(session, subscriber_id, address, tombstone)
    audit.record(session, actor, "subscriber.erase", f"subscriber #{subscriber_id}")
    return subscriber_id
