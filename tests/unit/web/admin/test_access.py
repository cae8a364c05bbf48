"""Every workspace route is signed in and role-checked; viewers read, never write."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from mailer.core.settings import Settings
from tests.unit.web.admin.conftest import sign_in
from tests.unit.web.conftest import World

READS = [
    "/admin",
    "/admin/issues",
    "/admin/sends",
    "/admin/sends/{send}",
    "/admin/sends/{send}/progress",
    "/admin/sends/{send}/report",
    "/admin/reports",
    "/admin/subscribers",
    "/admin/lists",
]
WRITES = [
    ("GET", "/admin/issues/new"),
    ("GET", "/admin/issues/1"),
    ("POST", "/admin/preview"),
    ("POST", "/admin/preview/frame/phone"),
    ("POST", "/admin/issues/save"),
    ("POST", "/admin/issues/autosave"),
    ("POST", "/admin/issues/upload"),
    ("POST", "/admin/issues/1/preflight"),
    ("POST", "/admin/issues/1/send"),
    ("POST", "/admin/segments/count"),
    ("GET", "/admin/subscribers-transfer"),
    ("POST", "/admin/lists"),
    ("POST", "/admin/sends/{send}/pause"),
    ("POST", "/admin/sends/{send}/cancel"),
]


@pytest.mark.parametrize(("method", "path"), [("GET", p) for p in READS] + WRITES)
def test_signed_out_is_sent_to_login(
    client: TestClient, world: World, method: str, path: str
) -> None:
    response = client.request(method, path.format(send=world.send_id))
    assert response.status_code == 303
    assert response.headers["location"].startswith("/admin/login?next=/admin")


def test_a_forged_cookie_is_signed_out(client: TestClient, world: World) -> None:
    client.cookies.set("nl_session", '["x@example.com", "owner"]')
    assert client.get("/admin").status_code == 303


def test_viewer_reads_everything(client: TestClient, world: World, web_settings: Settings) -> None:
    sign_in(client, web_settings, "viewer")
    for path in READS:
        response = client.get(path.format(send=world.send_id))
        assert response.status_code == 200, path
    home = client.get("/admin")
    assert "viewer" in home.text and "/admin/issues/new" not in home.text.split("</header>")[1]


@pytest.mark.parametrize(("method", "path"), WRITES)
def test_viewer_cannot_write(
    client: TestClient, world: World, web_settings: Settings, method: str, path: str
) -> None:
    sign_in(client, web_settings, "viewer")
    response = client.request(method, path.format(send=world.send_id))
    assert response.status_code == 403
    assert "it needs editor" in response.text


def test_pages_keep_the_strict_policy(
    client: TestClient, world: World, web_settings: Settings
) -> None:
    sign_in(client, web_settings, "editor")
    page = client.get("/admin/issues/new")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert "<script>" not in page.text and 'src="/admin/assets/workspace.js?v=' in page.text
    assert client.get("/admin/assets/workspace.js").status_code == 200
    assert client.get("/admin/assets/nope.js").status_code == 404
