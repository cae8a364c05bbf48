"""Celery tasks of the messages queue: one forwarded issue, one sign-up confirmation.

They carry ids (and the friend's address, which is never stored), read the rest from the
database when they run, and check suppressions then, so a late unsubscribe still counts.
A temporary provider failure is retried with backoff; a permanent one fails the task, where
Celery records it, rather than being dropped.
"""

from __future__ import annotations

import time
from functools import lru_cache
from typing import Any

from celery import Task
from sqlalchemy import Engine, select

from mailer.core.models import Send
from mailer.core.settings import Settings
from mailer.readers import forwarding
from mailer.readers.links import Purpose, Signer, Token, link
from mailer.readers.messages import Sender, confirmation_payload, forward_payload
from mailer.tasks.app import celery_app, worker_settings
from mailer.transport.base import Payload, TemporaryFailure
from mailer.transport.factory import make_transport
from subscribers.db import make_engine, transaction
from subscribers.models import SUPPRESSED, Status, Subscriber
from subscribers.store import normalize_email

_RETRY = {"bind": True, "max_retries": 8, "acks_late": True}


@lru_cache(maxsize=4)
def _engine(url: str) -> Engine:
    return make_engine(url)


def _sender(settings: Settings) -> Sender:
    return Sender(settings.FROM_EMAIL, settings.FROM_NAME, settings.REPLY_TO)


@celery_app.task(**_RETRY)
def deliver_forward(
    self: Task[Any, Any], send_id: int, forwarder_id: int, friend: str, note: str
) -> str:
    """Mail the issue of `send_id` to one friend of `forwarder_id`, unless they opted out."""
    settings = worker_settings()
    payload = build_forward(settings, send_id, forwarder_id, friend, note)
    if payload is None:
        return "skipped"
    _deliver(self, settings, payload)
    return "sent"


@celery_app.task(**_RETRY)
def deliver_confirmation(self: Task[Any, Any], subscriber_id: int, list_id: int) -> str:
    """Mail the double opt-in link; the link's 7 days start now."""
    settings = worker_settings()
    with transaction(_engine(settings.DATABASE_URL)) as session:
        subscriber = session.get(Subscriber, subscriber_id)
        if subscriber is None or subscriber.status in (Status.BOUNCED, Status.COMPLAINED):
            return "skipped"
        email = subscriber.email
    token = Token(Purpose.CONFIRM, subscriber_id, list_id, 0, int(time.time()))
    url = link(settings.PUBLIC_BASE_URL, Signer(settings.SECRET_KEY), token)
    payload = confirmation_payload(
        _sender(settings), email, settings.BRAND_NAME, url, subscriber_id
    )
    _deliver(self, settings, payload)
    return "sent"


def build_forward(
    settings: Settings, send_id: int, forwarder_id: int, friend: str, note: str
) -> Payload | None:
    """The friend's message, or None when the friend opted out or the issue is gone."""
    with transaction(_engine(settings.DATABASE_URL)) as session:
        opted_out = session.scalar(
            select(Subscriber.id).where(
                Subscriber.email_norm == normalize_email(friend),
                Subscriber.status.in_([str(s) for s in SUPPRESSED]),
            )
        )
        send = session.get(Send, send_id)
        forwarder = session.get(Subscriber, forwarder_id)
        if opted_out is not None or send is None or forwarder is None:
            return None
        who = forwarder.name or forwarder.email
        subject, html, text, slug = send.subject, send.html, send.text, send.slug
        list_id = send.list_id or 0
    signer = Signer(settings.SECRET_KEY)
    referral = signer.make(Token(Purpose.REFERRAL, forwarder_id, list_id, send_id))
    banner = forwarding.Banner(
        forwarder=who,
        note=note,
        subscribe_url=f"{settings.PUBLIC_BASE_URL}/subscribe?ref={referral}",
        brand_name=settings.BRAND_NAME,
        footer_text=settings.FOOTER_TEXT,
    )
    view_url = f"{settings.PUBLIC_BASE_URL}/archive/{slug}"
    return forward_payload(
        _sender(settings),
        friend,
        who,
        subject,
        forwarding.friend_text(text, banner, view_url),
        forwarding.friend_html(html, banner, view_url),
        send_id,
    )


def _deliver(task: Task[Any, Any], settings: Settings, payload: Payload) -> None:
    try:
        make_transport(settings).deliver(payload)
    except TemporaryFailure as exc:
        delay = exc.retry_after or min(600, 5 * 2**task.request.retries)
        raise task.retry(exc=exc, countdown=delay) from exc
