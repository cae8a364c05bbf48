"""Workspace page tests: a real user with a role and a real server-side session cookie."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient

from mailer.accounts.principal import cli_principal
from mailer.accounts.sessions import start_session
from mailer.accounts.users import add_user, find_user
from mailer.core.settings import Settings
from mailer.web.admin.auth import COOKIE
from subscribers.db import transaction

PASSWORD = "correct horse battery staple"


def sign_in(client: TestClient, settings: Settings, role: str, name: str = "") -> None:
    """Sign the client in as a user with `role` (one user per role, made on first use)."""
    email = name or f"{role}@example.com"
    engine = client.app.state.web.engine  # type: ignore[attr-defined]
    with transaction(engine) as session:
        if find_user(session, email) is None:
            add_user(session, cli_principal(), email, role, PASSWORD)
        user = find_user(session, email)
        assert user is not None
        secret = start_session(session, user, datetime.now(UTC), "testclient")
    client.cookies.set(COOKIE, secret)


def csrf_of(client: TestClient, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    marker = 'name="csrf_token" value="'
    start = page.text.index(marker) + len(marker)
    return page.text[start : page.text.index('"', start)]
