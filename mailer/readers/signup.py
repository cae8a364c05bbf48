"""Double opt-in: a sign-up request and its confirmation, as database steps.

A request never tells the caller whether the address was known: the web page answers the same
in every case, and only the confirmation mail (sent at most once per cooldown) reaches the
address's owner. Nobody bounced or complained is ever brought back by a sign-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.readers.links import Token
from subscribers.models import (
    MailingList,
    Membership,
    MembershipStatus,
    Status,
    Subscriber,
)
from subscribers.store import find_subscriber, get_or_create_list, normalize_email

_NEVER_BACK = frozenset({Status.BOUNCED, Status.COMPLAINED})


@dataclass(frozen=True, slots=True)
class SignupRequest:
    email: str  # validated, as typed
    name: str
    list_id: int
    ip: str
    referral: Token | None  # a valid REFERRAL token from a forwarded issue


def default_list(session: Session, preferred: str | None) -> MailingList:
    """DEFAULT_LIST when set (created on first use), else the oldest public list, else
    `newsletter`."""
    if preferred:
        return get_or_create_list(session, preferred)
    first = session.scalars(
        select(MailingList).where(MailingList.public).order_by(MailingList.id).limit(1)
    ).first()
    return first or get_or_create_list(session, "newsletter")


def request_signup(
    session: Session, req: SignupRequest, now: datetime, cooldown: int
) -> int | None:
    """Record the request; the subscriber id to send a confirmation to, or None for no mail."""
    subscriber = find_subscriber(session, req.email)
    if subscriber is None:
        subscriber = _new_pending(session, req)
    elif subscriber.status in _NEVER_BACK:
        return None
    membership = session.get(Membership, (req.list_id, subscriber.id))
    already = membership is not None and membership.status == MembershipStatus.SUBSCRIBED
    if subscriber.status == Status.ACTIVE and already:
        return None
    if membership is None:
        session.add(
            Membership(
                list_id=req.list_id, subscriber_id=subscriber.id, status=MembershipStatus.PENDING
            )
        )
    # An "unsubscribed" membership is the reader's own recorded choice: only their
    # confirmation (signup.confirm) may change it, not whoever typed the address in.
    sent = subscriber.confirm_sent_at
    if sent is not None and now - sent < timedelta(seconds=cooldown):
        return None
    subscriber.confirm_sent_at = now
    return subscriber.id


def _new_pending(session: Session, req: SignupRequest) -> Subscriber:
    subscriber = Subscriber(
        email=req.email.strip(),
        email_norm=normalize_email(req.email),
        name=req.name,
        status=Status.PENDING,
        consent_source="signup",
        consent_ip=req.ip,
    )
    ref = req.referral
    referrer = session.get(Subscriber, ref.subscriber_id) if ref is not None else None
    if ref is not None and referrer is not None and referrer.link_key == ref.key:
        subscriber.referred_by_id = ref.subscriber_id
        subscriber.referred_send_id = ref.send_id or None
    session.add(subscriber)
    session.flush()
    return subscriber


def confirm(session: Session, token: Token, ip: str, now: datetime) -> bool:
    """Activate the subscriber on the token's list; False when the link may not do that."""
    subscriber = session.get(Subscriber, token.subscriber_id)
    if subscriber is None or subscriber.status in _NEVER_BACK:
        return False
    membership = session.get(Membership, (token.list_id, subscriber.id))
    issued = datetime.fromtimestamp(token.issued_at, now.tzinfo)
    # A later unsubscribe wins over an older confirmation link.
    left = [subscriber.unsubscribed_at, membership.unsubscribed_at if membership else None]
    if any(when is not None and when > issued for when in left):
        return False
    if subscriber.status != Status.ACTIVE:
        subscriber.status = Status.ACTIVE
        subscriber.unsubscribed_at = None
        subscriber.status_reason = "confirmed"
    subscriber.confirmed_at = subscriber.confirmed_at or now
    subscriber.consent_source = "double-opt-in"
    subscriber.consent_at = now
    subscriber.consent_ip = ip
    if membership is None:
        if session.get(MailingList, token.list_id) is None:
            return True
        session.add(Membership(list_id=token.list_id, subscriber_id=subscriber.id))
    else:
        membership.status = MembershipStatus.SUBSCRIBED
        membership.unsubscribed_at = None
        membership.unsubscribe_source = None
    return True
