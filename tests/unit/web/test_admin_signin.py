"""Workspace sign-in: cookie flags, CSRF, throttling, one answer for every failure, sign-out."""

from __future__ import annotations

from fastapi import Depends
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine

from mailer.accounts.principal import Principal, Role, cli_principal
from mailer.accounts.users import add_user, disable_user
from mailer.core.settings import Settings
from mailer.web.admin.auth import page_principal
from mailer.web.app import create_app
from subscribers.db import transaction
from tests.fixtures.services import RedisServer
from tests.unit.web.conftest import form_token

PASSWORD = "correct horse battery"


def make_user(engine: Engine, email: str = "ed@example.com", role: str = "editor") -> None:
    with transaction(engine) as session:
        add_user(session, cli_principal(), email, role, PASSWORD)


def sign_in(client: TestClient, email: str, password: str, next_path: str = "/admin") -> Response:
    token = form_token(client, "/admin/login")
    fields = {"csrf_token": token, "email": email, "password": password, "next": next_path}
    return client.post("/admin/login", data=fields)


def test_signed_out_visitors_are_sent_to_sign_in(client: TestClient) -> None:
    answer = client.get("/admin?x=1")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/admin/login?next=/admin%3Fx%3D1"


def test_sign_in_sets_a_strict_cookie_and_sign_out_ends_the_session(
    client: TestClient, engine: Engine
) -> None:
    make_user(engine)
    answer = sign_in(client, "Ed@Example.com", PASSWORD, "/admin")
    assert answer.status_code == 303 and answer.headers["location"] == "/admin"
    cookie = answer.headers["set-cookie"]
    assert "nl_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    home = client.get("/admin")
    assert home.status_code == 200 and "ed@example.com" in home.text
    stolen = client.cookies.get("nl_session")
    token = form_token(client, "/admin")
    assert client.post("/admin/logout", data={"csrf_token": token}).status_code == 303
    client.cookies.set("nl_session", stolen or "", path="/admin")
    assert client.get("/admin").status_code == 303  # the row is gone, the copy is worthless


def test_one_answer_for_unknown_account_and_wrong_password(
    client: TestClient, engine: Engine
) -> None:
    make_user(engine)
    unknown = sign_in(client, "nobody@example.com", PASSWORD)
    wrong = sign_in(client, "ed@example.com", "not the password")
    assert unknown.status_code == wrong.status_code == 400
    assert "Wrong email or password." in unknown.text and "Wrong email or password." in wrong.text
    assert "nl_session" not in client.cookies


def test_login_needs_the_forms_csrf_token(client: TestClient, engine: Engine) -> None:
    make_user(engine)
    fields = {"email": "ed@example.com", "password": PASSWORD, "csrf_token": "forged"}
    assert client.post("/admin/login", data=fields).status_code == 400


def test_sign_in_is_throttled_per_account(client: TestClient, engine: Engine) -> None:
    make_user(engine)
    answers = [sign_in(client, "ed@example.com", "guess number x").status_code for _ in range(10)]
    assert answers == [400] * 10
    assert sign_in(client, "ed@example.com", PASSWORD).status_code == 429


def test_open_redirects_are_refused(client: TestClient, engine: Engine) -> None:
    make_user(engine)
    answer = sign_in(client, "ed@example.com", PASSWORD, "//evil.example/admin")
    assert answer.headers["location"] == "/admin"


def test_disabling_a_user_ends_their_sessions(client: TestClient, engine: Engine) -> None:
    make_user(engine)
    sign_in(client, "ed@example.com", PASSWORD)
    assert client.get("/admin").status_code == 200
    with transaction(engine) as session:
        disable_user(session, cli_principal(), "ed@example.com")
    assert client.get("/admin").status_code == 303


def test_the_cookie_is_secure_under_https(web_settings: Settings, engine: Engine) -> None:
    make_user(engine)
    app = create_app(web_settings)
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        answer = sign_in(client, "ed@example.com", PASSWORD)
    assert answer.status_code == 303 and "Secure" in answer.headers["set-cookie"]


def test_a_page_needing_a_higher_role_is_a_403_page(web_settings: Settings, engine: Engine) -> None:
    make_user(engine, "viewer@example.com", "viewer")
    app = create_app(web_settings)

    def editors_only(who: Principal = Depends(page_principal(Role.EDITOR))) -> str:
        return who.name

    app.add_api_route("/admin/editors-only", editors_only)
    with TestClient(app, follow_redirects=False) as client:
        sign_in(client, "viewer@example.com", PASSWORD)
        refused = client.get("/admin/editors-only")
    assert refused.status_code == 403 and "it needs editor" in refused.text


def test_throttling_is_shared_through_redis(
    web_settings: Settings, engine: Engine, redis: RedisServer
) -> None:
    make_user(engine)
    shared = web_settings.model_copy(update={"REDIS_URL": redis.url, "SIGNIN_LIMIT_PER_ACCOUNT": 3})
    first, second = create_app(shared), create_app(shared)
    with TestClient(first) as one, TestClient(second, follow_redirects=False) as two:
        assert [sign_in(one, "ed@example.com", "not it at all").status_code for _ in range(3)] == [
            400
        ] * 3
        assert sign_in(two, "ed@example.com", PASSWORD).status_code == 429
