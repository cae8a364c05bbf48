"""Workspace page tests: sign a test client in with a role (the session cookie, signed)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from itsdangerous import URLSafeTimedSerializer

from mailer.core.settings import Settings
from mailer.web.admin.auth import COOKIE


def sign_in(
    client: TestClient, settings: Settings, role: str, name: str = "ed@example.com"
) -> None:
    value = URLSafeTimedSerializer(settings.SECRET_KEY, salt="newsletter-admin").dumps([name, role])
    client.cookies.set(COOKIE, value)


def csrf_of(client: TestClient, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    marker = 'name="csrf_token" value="'
    start = page.text.index(marker) + len(marker)
    return page.text[start : page.text.index('"', start)]
