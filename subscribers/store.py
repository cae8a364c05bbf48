"""Finding and adding subscribers and lists, one at a time (the CLI, sign-up, the demo)."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any
from zoneinfo import available_timezones

from email_validator import EmailNotValidError, validate_email
from email_validator.rfc_constants import DOT_ATOM_TEXT
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from subscribers.errors import SubscriberError
from subscribers.models import (
    SUPPRESSED,
    MailingList,
    Membership,
    MembershipStatus,
    Status,
    Subscriber,
    SubscriberTag,
    utcnow,
)

CORE_COLUMNS = ("email", "name", "tags", "timezone", "status")
MAX_NAME = 200
MAX_TAG = 100
_MAX_EMAIL = 254  # RFC 5321 path limit, also email-validator's
_TIMEZONES = frozenset(available_timezones())


def normalize_email(email: str) -> str:
    """The form emails are compared in: trimmed and lower-cased."""
    return email.strip().lower()


def check_email(email: str) -> str:
    """The address, trimmed, if its syntax is valid (no DNS); else SubscriberError with why."""
    email = email.strip()
    if not email:
        raise SubscriberError("missing email")
    if _plain_and_valid(email):
        return email
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError as exc:
        raise SubscriberError(f"invalid email {email!r}: {exc}") from None
    return email


def _plain_and_valid(email: str) -> bool:
    """email-validator's own verdict, faster for the common case: a plain ASCII local part
    (the library's dot-atom rule) and a domain it already accepted once (a million readers
    share a few thousand domains). Anything else takes the full check."""
    local, _, domain = email.rpartition("@")
    return (
        len(email) <= _MAX_EMAIL
        and email.isascii()
        and DOT_ATOM_TEXT.match(local) is not None
        and "xn--" not in domain.lower()
        and _domain_is_valid(domain)
    )


@lru_cache(maxsize=65536)
def _domain_is_valid(domain: str) -> bool:
    try:
        validate_email(f"a@{domain}", check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def check_timezone(timezone: str) -> str:
    if timezone not in _TIMEZONES:
        raise SubscriberError(f"unknown timezone {timezone!r} (use an IANA name like Europe/Paris)")
    return timezone


def check_status(status: str) -> Status:
    try:
        return Status(status.strip().lower())
    except ValueError:
        allowed = ", ".join(s.value for s in Status)
        raise SubscriberError(f"unknown status {status!r} (use one of: {allowed})") from None


def check_tag(tag: str) -> str:
    tag = tag.strip().lower()
    if len(tag) > MAX_TAG:
        raise SubscriberError(f"tag longer than {MAX_TAG} characters: {tag[:20]!r}…")
    return tag


def find_list(session: Session, name: str) -> MailingList | None:
    """The list of that name, compared case-insensitively (lists are few)."""
    wanted = name.strip().casefold()
    for mailing_list in session.scalars(select(MailingList).order_by(MailingList.id)):
        if mailing_list.name.casefold() == wanted:
            return mailing_list
    return None


def get_or_create_list(session: Session, name: str) -> MailingList:
    name = name.strip()
    if not name or len(name) > 100:
        raise SubscriberError(f"a list name needs 1 to 100 characters, not {name!r}")
    found = find_list(session, name)
    if found is None:
        found = MailingList(name=name, description="")
        session.add(found)
        session.flush()
    return found


def find_subscriber(session: Session, email: str) -> Subscriber | None:
    query = select(Subscriber).where(Subscriber.email_norm == normalize_email(email))
    return session.scalars(query).one_or_none()


def add_subscriber(
    session: Session,
    email: str,
    name: str = "",
    list_names: Iterable[str] = (),
    tags: Iterable[str] = (),
    attrs: dict[str, Any] | None = None,
    timezone: str | None = None,
    status: Status = Status.ACTIVE,
    consent_source: str = "cli",
    consent_ip: str | None = None,
) -> Subscriber:
    """Add a person, or add tags and lists to the one already there (never re-activating them).

    Someone who already exists keeps their status; a name, timezone or attribute given here
    replaces theirs, and a list they once left stays left.
    """
    email = check_email(email)
    if len(name) > MAX_NAME:
        raise SubscriberError(f"name longer than {MAX_NAME} characters")
    attrs = _check_attrs(attrs or {})
    subscriber = find_subscriber(session, email)
    if subscriber is None:
        subscriber = _new_subscriber(email, name, attrs, timezone, status)
        subscriber.consent_source, subscriber.consent_ip = consent_source, consent_ip
        subscriber.consent_at = utcnow()
        session.add(subscriber)
    else:
        _update_subscriber(subscriber, name, attrs, timezone)
    session.flush()
    _add_tags(session, subscriber, tags)
    for list_name in list_names:
        join_list(session, subscriber, get_or_create_list(session, list_name))
    return subscriber


def _new_subscriber(
    email: str, name: str, attrs: dict[str, Any], timezone: str | None, status: Status
) -> Subscriber:
    return Subscriber(
        email=email,
        email_norm=normalize_email(email),
        name=name.strip(),
        status=Status(status),
        timezone=check_timezone(timezone) if timezone else None,
        attrs=attrs,
        unsubscribed_at=utcnow() if status == Status.UNSUBSCRIBED else None,
        bounce_count=0,
        soft_bounce_count=0,
    )


def _update_subscriber(
    subscriber: Subscriber, name: str, attrs: dict[str, Any], timezone: str | None
) -> None:
    if name.strip():
        subscriber.name = name.strip()
    if timezone:
        subscriber.timezone = check_timezone(timezone)
    if attrs:
        subscriber.attrs = {**subscriber.attrs, **attrs}


def _check_attrs(attrs: dict[str, Any]) -> dict[str, Any]:
    checked: dict[str, Any] = {}
    for key, value in attrs.items():
        name = key.strip().lower()
        if not name or name in CORE_COLUMNS or '"' in name or "\\" in name:
            raise SubscriberError(f"{key!r} cannot be an attribute name")
        checked[name] = value
    return checked


def _add_tags(session: Session, subscriber: Subscriber, tags: Iterable[str]) -> None:
    have = set(subscriber.tag_names)
    for tag in {check_tag(t) for t in tags} - have - {""}:
        session.add(SubscriberTag(subscriber_id=subscriber.id, tag=tag))
    session.flush()
    session.expire(subscriber, ["tags"])


def join_list(session: Session, subscriber: Subscriber, mailing_list: MailingList) -> bool:
    """Subscribe to a list unless a membership exists already (a list once left stays left)."""
    if session.get(Membership, (mailing_list.id, subscriber.id)) is not None:
        return False
    suppressed = subscriber.status in SUPPRESSED
    state = MembershipStatus.UNSUBSCRIBED if suppressed else MembershipStatus.SUBSCRIBED
    session.add(Membership(list_id=mailing_list.id, subscriber_id=subscriber.id, status=state))
    session.flush()
    return True


def list_counts(session: Session) -> list[tuple[str, int]]:
    """Every list with how many active subscribers are on it, by name (case-insensitively)."""
    active = and_(
        Membership.list_id == MailingList.id,
        Membership.status == MembershipStatus.SUBSCRIBED,
    )
    query = (
        select(MailingList.name, func.count(Subscriber.id))
        .select_from(MailingList)
        .outerjoin(Membership, active)
        .outerjoin(
            Subscriber,
            and_(Subscriber.id == Membership.subscriber_id, Subscriber.status == Status.ACTIVE),
        )
        .group_by(MailingList.id, MailingList.name)
    )
    counts = [(name, count) for name, count in session.execute(query)]
    return sorted(counts, key=lambda item: item[0].casefold())


def segment_count(session: Session, expr: str, list_id: int | None = None) -> int:
    """How many active subscribers (of the list, when given) the segment matches."""
    from subscribers.audience import audience_query
    from subscribers.segments import compile_segment

    if list_id is not None:
        query = audience_query(list_id, expr).with_only_columns(Subscriber.id)
    else:
        query = select(Subscriber.id).where(Subscriber.status == Status.ACTIVE)
        query = query.where(compile_segment(expr))
    return session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
