"""People page, users: add (the CLI's password rules, typed twice), change a role, disable
(their sessions end at once) and enable; every write audited; never without an active owner."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from mailer.accounts.models import AuditEntry, User
from mailer.core.settings import Settings
from subscribers.db import transaction
from tests.unit.web.admin.conftest import csrf_of, sign_in

NEW = {"email": "Sam@Example.com", "role": "editor", "password": "a long password"}


def _owner(client: TestClient, settings: Settings) -> str:
    sign_in(client, settings, "owner")
    return csrf_of(client, "/admin/people")


def test_add_a_user_and_the_errors_next_to_their_fields(
    client: TestClient, engine: Engine, web_settings: Settings
) -> None:
    token = _owner(client, web_settings)
    form = {**NEW, "password2": NEW["password"], "csrf_token": token}
    added = client.post("/admin/people/users", data=form)
    assert added.status_code == 303 and added.headers["location"] == "/admin/people?added=1"
    page = client.get("/admin/people?added=1").text
    assert "User added." in page and "sam@example.com" in page
    again = client.post("/admin/people/users", data=form)
    assert again.status_code == 400 and 'id="email-error"' in again.text
    assert 'value="Sam@Example.com"' in again.text and "a long password" not in again.text
    weak = {**form, "email": "x@example.com", "password": "short", "password2": "short"}
    short = client.post("/admin/people/users", data=weak)
    assert short.status_code == 400 and 'id="password-error"' in short.text
    assert "needs at least 10 characters" in short.text and 'value="x@example.com"' in short.text
    typo = {**form, "email": "y@example.com", "password2": "another long one"}
    differ = client.post("/admin/people/users", data=typo)
    assert differ.status_code == 400 and 'id="password2-error"' in differ.text
    role = client.post(
        "/admin/people/users", data={**form, "email": "z@example.com", "role": "god"}
    )
    assert role.status_code == 400 and 'id="role-error"' in role.text
    bad = client.post("/admin/people/users", data={**form, "email": "not an address"})
    assert bad.status_code == 400 and 'id="email-error"' in bad.text
    assert client.post("/admin/people/users", data={**form, "csrf_token": ""}).status_code == 400
    with transaction(engine) as session:
        assert session.scalars(select(User.email).where(User.email.like("%example.com"))).all()
        assert session.scalars(select(AuditEntry.action)).all().count("user.add") == 2


def test_role_disable_enable_and_sessions_end_at_once(
    client: TestClient, engine: Engine, web_settings: Settings
) -> None:
    token = _owner(client, web_settings)
    other = TestClient(client.app)
    sign_in(other, web_settings, "editor")
    assert other.get("/admin/issues/new").status_code == 200
    act = {"email": "editor@example.com", "csrf_token": token}
    viewer = client.post("/admin/people/users/role", data={**act, "role": "viewer"})
    assert viewer.status_code == 303
    assert other.get("/admin/issues/new").status_code == 403  # the next request has the new role
    off = client.post("/admin/people/users/disable", data=act)
    assert (
        off.status_code == 303 and "sessions have ended" in client.get(off.headers["location"]).text
    )
    signed_out = other.get("/admin", follow_redirects=False)
    assert signed_out.status_code == 303 and "/admin/login" in signed_out.headers["location"]
    assert ">Enable editor@example.com<" in client.get("/admin/people").text
    assert client.post("/admin/people/users/enable", data=act).status_code == 303
    assert ">Disable editor@example.com<" in client.get("/admin/people").text
    missing = client.post("/admin/people/users/disable", data={**act, "email": "no@example.com"})
    assert missing.status_code == 400 and 'id="user-error"' in missing.text
    odd = client.post("/admin/people/users/role", data={**act, "role": "king"})
    assert odd.status_code == 400 and "role: &#39;king&#39; is not one of" in odd.text
    assert client.post("/admin/people/users/explode", data=act).status_code == 404
    assert client.post("/admin/people/users/disable", data={"email": "x"}).status_code == 400
    with transaction(engine) as session:
        actions = session.scalars(select(AuditEntry.action)).all()
    assert {"user.role", "user.disable", "user.enable"} <= set(actions)


def test_the_last_active_owner_stays(
    client: TestClient, engine: Engine, web_settings: Settings
) -> None:
    token = _owner(client, web_settings)
    me = {"email": "owner@example.com", "csrf_token": token}
    demote = client.post("/admin/people/users/role", data={**me, "role": "editor"})
    assert demote.status_code == 400 and 'id="user-error"' in demote.text
    assert "last active owner" in demote.text
    assert client.post("/admin/people/users/disable", data=me).status_code == 400
    form = {"email": "second@example.com", "role": "owner", "password": "another long one"}
    added = client.post("/admin/people/users", data={**me, **form, "password2": form["password"]})
    assert added.status_code == 303
    assert client.post("/admin/people/users/disable", data=me).status_code == 303
    with transaction(engine) as session:
        row = session.scalars(select(User).where(User.email == "owner@example.com")).one()
        assert row.disabled and row.role == "owner"
    # signed out now (their own sessions ended too)
    assert client.get("/admin/people", follow_redirects=False).status_code == 303


def test_only_owners_manage_users(client: TestClient, web_settings: Settings) -> None:
    sign_in(client, web_settings, "editor")
    for path in ("/admin/people/users", "/admin/people/users/disable"):
        assert client.post(path, data={"email": "owner@example.com"}).status_code == 403
    sign_in(client, web_settings, "viewer")
    assert client.post("/admin/people/users/role", data={"role": "owner"}).status_code == 403
