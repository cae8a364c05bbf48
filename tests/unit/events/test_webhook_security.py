"""Only recent posts signed with the configured key get in, and only whole, well-formed batches."""

from __future__ import annotations

import json
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from mailer.core.models import Event, WebhookPost
from mailer.core.settings import Settings
from mailer.web.app import create_app
from tests.unit.events.helpers import SIGNATURE, TIMESTAMP, Signer, body_of, event

URL = "/webhooks/sendgrid"


def _stored(engine: Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        posts = conn.execute(select(func.count()).select_from(WebhookPost)).scalar_one()
        events = conn.execute(select(func.count()).select_from(Event)).scalar_one()
    return posts, events


def _batch(size: int = 3) -> bytes:
    kinds = ["processed", "delivered", "open", "click", "bounce"]
    return body_of([event(kinds[i % 5], f"p{i}@example.com") for i in range(size)])


def test_a_realistic_signed_batch_is_stored(
    client: TestClient, signer: Signer, engine: Engine
) -> None:
    body = _batch(250)
    response = client.post(URL, content=body, headers=signer.headers(body))
    assert response.status_code == 200
    assert response.json() == {"received": 250, "new": 250}
    assert _stored(engine) == (1, 250)
    with engine.connect() as conn:
        assert (
            conn.execute(
                select(func.count()).select_from(Event).where(Event.applied_at.is_(None))
            ).scalar_one()
            == 0
        )


def test_tampered_body_is_refused(client: TestClient, signer: Signer, engine: Engine) -> None:
    body = _batch()
    headers = signer.headers(body)
    tampered = body.replace(b"p0@example.com", b"p9@example.com")
    assert client.post(URL, content=tampered, headers=headers).status_code == 403
    assert _stored(engine) == (0, 0)


def test_another_key_is_refused(client: TestClient, engine: Engine) -> None:
    body = _batch()
    assert client.post(URL, content=body, headers=Signer().headers(body)).status_code == 403
    assert _stored(engine) == (0, 0)


@pytest.mark.parametrize("age", [3600, -3600], ids=["old", "future"])
def test_stale_timestamp_is_refused(
    client: TestClient, signer: Signer, engine: Engine, age: int
) -> None:
    body = _batch()
    headers = signer.headers(body, timestamp=int(time.time()) - age)
    assert client.post(URL, content=body, headers=headers).status_code == 403
    assert _stored(engine) == (0, 0)


@pytest.mark.parametrize(
    "signature",
    ["not base64 at all!", "QUJD", "", "=" * 7, "MEUCIQ" + "A" * 80, "é"],
    ids=["garbage", "short", "empty", "padding", "wrong-length", "non-ascii"],
)
def test_garbage_signature_is_refused_never_500(
    client: TestClient, signer: Signer, engine: Engine, signature: str
) -> None:
    body = _batch()
    headers: dict[str, str | bytes] = {**signer.headers(body), SIGNATURE: signature.encode()}
    assert client.post(URL, content=body, headers=headers).status_code in (401, 403)
    assert _stored(engine) == (0, 0)


@pytest.mark.parametrize("missing", [SIGNATURE, TIMESTAMP])
def test_missing_headers_are_refused(
    client: TestClient, signer: Signer, engine: Engine, missing: str
) -> None:
    body = _batch()
    headers = {k: v for k, v in signer.headers(body).items() if k != missing}
    assert client.post(URL, content=body, headers=headers).status_code == 401
    assert _stored(engine) == (0, 0)


def test_no_key_configured_refuses_unless_insecure(settings: Settings, engine: Engine) -> None:
    body = _batch()
    assert TestClient(create_app(settings)).post(URL, content=body).status_code == 401
    insecure = settings.model_copy(update={"SENDGRID_WEBHOOK_INSECURE": True})
    assert TestClient(create_app(insecure)).post(URL, content=body).status_code == 200
    assert _stored(engine) == (1, 3)


def test_unusable_configured_key_is_refused_not_500(settings: Settings, engine: Engine) -> None:
    cfg = settings.model_copy(update={"SENDGRID_WEBHOOK_PUBLIC_KEY": "bm90IGEga2V5"})
    body = _batch()
    response = TestClient(create_app(cfg)).post(URL, content=body, headers=Signer().headers(body))
    assert response.status_code == 401
    assert _stored(engine) == (0, 0)


def test_oversized_body_is_refused(hook_settings: Settings, signer: Signer, engine: Engine) -> None:
    body = _batch(50)
    small = hook_settings.model_copy(update={"WEBHOOK_MAX_BODY_BYTES": len(body) - 1})
    client = TestClient(create_app(small))
    assert client.post(URL, content=body, headers=signer.headers(body)).status_code == 413

    def chunks() -> object:  # no Content-Length: the limit still holds while streaming
        yield body[:100]
        yield body[100:]

    response = client.post(URL, content=chunks(), headers=signer.headers(body))
    assert response.status_code == 413
    assert _stored(engine) == (0, 0)


@pytest.mark.parametrize(
    "body",
    [
        b'[{"email": "a@example.com"',
        b'{"email": "a@example.com"}',
        b"not json",
        '["caf\xe9"]'.encode("latin-1"),
    ],
    ids=["truncated", "object-not-array", "text", "not-utf8"],
)
def test_malformed_json_is_400_and_nothing_stored(
    client: TestClient, signer: Signer, engine: Engine, body: bytes
) -> None:
    response = client.post(URL, content=body, headers=signer.headers(body))
    assert response.status_code in (400, 403)  # not-utf8 cannot even be checked: 403
    assert _stored(engine) == (0, 0)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("timestamp", "yesterday"),
        ("email", 42),
        ("sg_event_id", None),
        ("event", ["open"]),
        ("url", {"href": "x"}),
        ("sg_event_id", "x" * 101),
    ],
)
def test_wrong_field_types_are_400_and_nothing_half_stored(
    client: TestClient, signer: Signer, engine: Engine, field: str, value: object
) -> None:
    events = [event("delivered", f"p{i}@example.com") for i in range(5)]
    events[3][field] = value
    body = json.dumps(events).encode()
    response = client.post(URL, content=body, headers=signer.headers(body))
    assert response.status_code == 400
    assert "3" in response.json()["error"]
    assert _stored(engine) == (0, 0)


def test_unreadable_custom_args_mean_unknown_not_refused(
    client: TestClient, signer: Signer, engine: Engine
) -> None:
    events = [
        event("delivered", "p1@example.com", nl_send_id="7", nl_list_id="None", nl_subscriber_id="")
    ]
    body = json.dumps(events).encode()
    assert client.post(URL, content=body, headers=signer.headers(body)).status_code == 200
    with engine.connect() as conn:
        assert conn.execute(select(Event.send_id, Event.subscriber_id)).one() == (7, None)
