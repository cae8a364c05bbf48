"""Chooses the transport from settings: SendGrid when a key is set, else the outbox."""

from __future__ import annotations

from mailer.core.settings import Settings
from mailer.transport.base import Transport
from mailer.transport.outbox import OutboxTransport
from mailer.transport.sendgrid import SendGridTransport


def make_transport(settings: Settings) -> Transport:
    if settings.SENDGRID_API_KEY:
        return SendGridTransport(
            api_key=settings.SENDGRID_API_KEY,
            host=settings.SENDGRID_API_HOST,
            timeout=settings.SENDGRID_TIMEOUT_SECONDS,
        )
    return OutboxTransport(settings.outbox_dir)
