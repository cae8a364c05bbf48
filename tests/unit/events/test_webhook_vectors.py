"""The sendgrid library's public test vectors, posted through POST /webhooks/sendgrid."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from mailer.core.models import Event, WebhookPost
from mailer.core.settings import Settings
from mailer.web.app import create_app
from tests.unit.events.helpers import SIGNATURE, TIMESTAMP

# sendgrid-python@76788e70:test/unit/test_eventwebhook.py
PUBLIC_KEY = (
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpVKS3G"
    "Rqe62gw+2fNNRaINXvVpiglSI8eNEc6wEA3F+g=="
)
WRONG_KEY = (
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEqTxd43gyp8IOEto2LdIfjRQrIbsd4SXZkLW6jDutdhXSJCWH"
    "w8REntlo7aNDthvj+y7GjUuFDb/R1NGe1OPzpA=="
)
SIGNATURE_VALUE = (
    "MEUCIGHQVtGj+Y3LkG9fLcxf3qfI10QysgDWmMOVmxG0u6ZUAiEAyBiXDWzM+uOe5W0JuG+luQAbPIqHh89M15Tl"
    "uLtEZtM="
)
WRONG_SIGNATURE = (
    "MEUCIQCtIHJeH93Y+qpYeWrySphQgpNGNr/U+UyUlBkU6n7RAwIgJTz2C+8a8xonZGi6BpSzoQsbVRamr2nlxFD"
    "WYNH3j/0="
)
TIMESTAMP_VALUE = "1600112502"
PAYLOAD = (
    '[{"email":"hello@world.com","event":"dropped","reason":"Bounced Address","sg_event_id":'
    '"ZHJvcC0xMDk5NDkxOS1MUnpYbF9OSFN0T0doUTRrb2ZTbV9BLTA","sg_message_id":'
    '"LRzXl_NHStOGhQ4kofSm_A.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC76C-9.0",'
    '"smtp-id":"<LRzXl_NHStOGhQ4kofSm_A@ismtpd0039p1iad1.sendgrid.net>","timestamp":1600112492}]'
    "\r\n"
)
# The vector dates from 2020: only a disabled replay window lets it through.
NO_REPLAY_WINDOW = 0


def _client(settings: Settings, key: str, max_age: int) -> TestClient:
    cfg = settings.model_copy(
        update={"SENDGRID_WEBHOOK_PUBLIC_KEY": key, "WEBHOOK_MAX_AGE_SECONDS": max_age}
    )
    return TestClient(create_app(cfg))


def _post(client: TestClient, payload: str, signature: str, timestamp: str) -> int:
    response = client.post(
        "/webhooks/sendgrid",
        content=payload.encode(),
        headers={SIGNATURE: signature, TIMESTAMP: timestamp, "Content-Type": "application/json"},
    )
    return response.status_code


def _stored(engine: Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        posts = conn.execute(select(func.count()).select_from(WebhookPost)).scalar_one()
        events = conn.execute(select(func.count()).select_from(Event)).scalar_one()
    return posts, events


def test_public_positive_vector_is_accepted_and_stored(settings: Settings, engine: Engine) -> None:
    client = _client(settings, PUBLIC_KEY, NO_REPLAY_WINDOW)
    assert _post(client, PAYLOAD, SIGNATURE_VALUE, TIMESTAMP_VALUE) == 200
    with engine.connect() as conn:
        stored = conn.execute(select(Event.sg_event_id, Event.event, Event.reason)).one()
    assert stored == (
        "ZHJvcC0xMDk5NDkxOS1MUnpYbF9OSFN0T0doUTRrb2ZTbV9BLTA",
        "dropped",
        "Bounced Address",
    )


def test_public_vector_is_stale_under_the_normal_replay_window(
    settings: Settings, engine: Engine
) -> None:
    client = _client(settings, PUBLIC_KEY, settings.WEBHOOK_MAX_AGE_SECONDS)
    assert _post(client, PAYLOAD, SIGNATURE_VALUE, TIMESTAMP_VALUE) == 403
    assert _stored(engine) == (0, 0)


@pytest.mark.parametrize(
    ("key", "payload", "signature", "timestamp"),
    [
        pytest.param(WRONG_KEY, PAYLOAD, SIGNATURE_VALUE, TIMESTAMP_VALUE, id="wrong-key"),
        pytest.param(PUBLIC_KEY, PAYLOAD, WRONG_SIGNATURE, TIMESTAMP_VALUE, id="wrong-signature"),
        pytest.param(PUBLIC_KEY, "payload", SIGNATURE_VALUE, TIMESTAMP_VALUE, id="payload"),
        pytest.param(PUBLIC_KEY, PAYLOAD, SIGNATURE_VALUE, "timestamp", id="timestamp"),
        pytest.param(PUBLIC_KEY, PAYLOAD.rstrip(), SIGNATURE_VALUE, TIMESTAMP_VALUE, id="no-crlf"),
    ],
)
def test_public_negative_vectors_are_refused(
    settings: Settings, engine: Engine, key: str, payload: str, signature: str, timestamp: str
) -> None:
    client = _client(settings, key, NO_REPLAY_WINDOW)
    assert _post(client, payload, signature, timestamp) == 403
    assert _stored(engine) == (0, 0)
