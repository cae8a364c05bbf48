"""The SendGrid payload of one outbox row, read from the database when it is sent.

Suppressions are checked now, not when the row was written, so a late unsubscribe, bounce or
complaint still counts. A row that must not be mailed gives the reason instead of a payload.
"""

from __future__ import annotations

import time

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.core.models import AddressSuppression, OutboxKind, OutboxMessage, Send
from mailer.core.privacy import address_hash
from mailer.core.settings import Settings
from mailer.readers import forwarding
from mailer.readers.links import Purpose, Signer, Token, link
from mailer.readers.messages import Sender, confirmation_payload, forward_payload
from mailer.readers.names import visible_name
from mailer.transport.base import Payload
from subscribers.models import SUPPRESSED, Status, Subscriber
from subscribers.store import normalize_email


def sender(settings: Settings) -> Sender:
    return Sender(settings.FROM_EMAIL, settings.FROM_NAME, settings.REPLY_TO)


def build(session: Session, settings: Settings, row: OutboxMessage) -> Payload | str:
    """The message, or why it is not sent."""
    if row.kind == OutboxKind.CONFIRM:
        return _confirmation(session, settings, row.args)
    if row.kind == OutboxKind.FORWARD and row.send_id is not None:
        return _forward(session, settings, row.send_id, row.args)
    return f"unknown message kind {row.kind!r}"


def _confirmation(session: Session, settings: Settings, args: dict[str, int]) -> Payload | str:
    subscriber = session.get(Subscriber, args["subscriber_id"])
    if subscriber is None or subscriber.status in (Status.BOUNCED, Status.COMPLAINED):
        return "skipped: the address is gone or suppressed"
    # The link's 7 days start when it is mailed; it is bound to the reader's link key.
    token = Token(
        Purpose.CONFIRM, subscriber.id, args["list_id"], 0, int(time.time()), subscriber.link_key
    )
    url = link(settings.PUBLIC_BASE_URL, Signer(settings.SECRET_KEY), token)
    return confirmation_payload(
        sender(settings), subscriber.email, settings.BRAND_NAME, url, subscriber.id
    )


def _forward(
    session: Session, settings: Settings, send_id: int, args: dict[str, object]
) -> Payload | str:
    friend, note = str(args.get("friend") or ""), str(args.get("note") or "")
    forwarder_id = int(str(args.get("forwarder_id") or 0))
    send, forwarder = session.get(Send, send_id), session.get(Subscriber, forwarder_id)
    if not friend or send is None or forwarder is None:
        return "skipped: the issue or its reader is gone"
    if _opted_out(session, settings.SECRET_KEY, friend):
        return "skipped: the friend opted out"
    who = visible_name(forwarder.name) or forwarder.email
    signer = Signer(settings.SECRET_KEY)
    referral = signer.make(
        Token(Purpose.REFERRAL, forwarder_id, send.list_id or 0, send_id, 0, forwarder.link_key)
    )
    banner = forwarding.Banner(
        forwarder=who,
        note=note,
        subscribe_url=f"{settings.PUBLIC_BASE_URL}/subscribe?ref={referral}",
        brand_name=settings.BRAND_NAME,
        footer_text=settings.FOOTER_TEXT,
    )
    view_url = f"{settings.PUBLIC_BASE_URL}/archive/{send.slug}"
    return forward_payload(
        sender(settings),
        friend,
        who,
        send.subject,
        forwarding.friend_text(send.text, banner, view_url),
        forwarding.friend_html(send.html, banner, view_url),
        send_id,
    )


def _opted_out(session: Session, secret_key: str, friend: str) -> bool:
    as_subscriber = session.scalar(
        select(Subscriber.id).where(
            Subscriber.email_norm == normalize_email(friend),
            Subscriber.status.in_([str(s) for s in SUPPRESSED]),
        )
    )
    as_address = session.get(AddressSuppression, address_hash(secret_key, friend))
    return as_subscriber is not None or as_address is not None
