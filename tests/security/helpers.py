"""Small steps the security tests share: submit a form the way a browser would."""

from __future__ import annotations

from fastapi.testclient import TestClient
from httpx import Response

from mailer.readers.links import Purpose
from tests.unit.web.conftest import World, form_token


def forward(
    client: TestClient, world: World, emails: str, subscriber_id: int | None = None
) -> Response:
    path = world.path(Purpose.FORWARD, subscriber_id)
    data = {"csrf_token": form_token(client, path), "emails": emails, "note": ""}
    return client.post(path, data=data)


def signup(client: TestClient, email: str, **extra: str) -> Response:
    data = {"csrf_token": form_token(client, "/subscribe"), "email": email, **extra}
    return client.post("/subscribe", data=data)
