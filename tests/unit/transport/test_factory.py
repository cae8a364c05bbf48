"""make_transport: SendGrid with a key, the outbox without."""

from __future__ import annotations

from pathlib import Path

from mailer.core.settings import Settings
from mailer.transport.factory import make_transport
from mailer.transport.outbox import OutboxTransport
from mailer.transport.sendgrid import SendGridTransport


def test_without_a_key_mail_goes_to_the_outbox(tmp_path: Path) -> None:
    settings = Settings(SECRET_KEY="k", VAR_DIR=tmp_path)
    transport = make_transport(settings)
    assert isinstance(transport, OutboxTransport)
    assert transport.directory == tmp_path / "outbox"


def test_with_a_key_mail_goes_to_the_configured_sendgrid_host(tmp_path: Path) -> None:
    settings = Settings(
        SECRET_KEY="k",
        VAR_DIR=tmp_path,
        SENDGRID_API_KEY="SG.test",
        SENDGRID_API_HOST="http://127.0.0.1:9/",
        SENDGRID_TIMEOUT_SECONDS=4.5,
    )
    transport = make_transport(settings)
    assert isinstance(transport, SendGridTransport)
    assert (transport.host, transport.timeout) == ("http://127.0.0.1:9", 4.5)
