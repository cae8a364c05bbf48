"""Users, tokens, sessions and the audit log as services and as `newsletter` commands."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from mailer.accounts import audit
from mailer.accounts.models import ApiToken, User, WebSession
from mailer.accounts.principal import Principal, Role, cli_principal
from mailer.accounts.sessions import Lifetimes, session_principal, start_session
from mailer.accounts.tokens import create_token, revoke_token, token_principal
from mailer.accounts.users import add_user, authenticate, disable_user
from mailer.core.errors import NewsletterError
from mailer.core.settings import Settings
from subscribers.db import transaction

NEWSLETTER = str(Path(sys.executable).with_name("newsletter"))
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
LIFE = Lifetimes(idle=timedelta(minutes=30), absolute=timedelta(hours=8))
PASSWORD = "correct horse battery"


def test_roles_are_ordered() -> None:
    editor = Principal("token", 1, "cms", Role.EDITOR)
    assert editor.allows(Role.VIEWER) and editor.allows(Role.EDITOR)
    assert not editor.allows(Role.OWNER)
    assert cli_principal().allows(Role.OWNER)


def test_password_is_argon2id_and_checked(engine: Engine) -> None:
    with transaction(engine) as session:
        add_user(session, cli_principal(), "Ed@Example.com", "editor", PASSWORD)
    with transaction(engine) as session:
        user = session.scalars(select(User)).one()
        assert user.email == "ed@example.com"
        assert user.password_hash.startswith("$argon2id$")
        assert authenticate(session, "ED@example.com", PASSWORD, NOW) is not None
        assert authenticate(session, "ed@example.com", "wrong password!", NOW) is None
        assert authenticate(session, "nobody@example.com", PASSWORD, NOW) is None


def test_only_owners_add_people_and_bad_input_names_the_field(engine: Engine) -> None:
    editor = Principal("user", 1, "ed@example.com", Role.EDITOR)
    with transaction(engine) as session:
        with pytest.raises(NewsletterError, match="only an owner"):
            add_user(session, editor, "x@example.com", "viewer", PASSWORD)
        with pytest.raises(NewsletterError, match="password"):
            add_user(session, cli_principal(), "x@example.com", "viewer", "short")
        with pytest.raises(NewsletterError, match="role"):
            add_user(session, cli_principal(), "x@example.com", "admin", PASSWORD)
        with pytest.raises(NewsletterError, match="email"):
            add_user(session, cli_principal(), "not-an-email", "viewer", PASSWORD)


def test_sessions_expire_idle_absolute_and_when_disabled(engine: Engine) -> None:
    with transaction(engine) as session:
        add_user(session, cli_principal(), "ed@example.com", "editor", PASSWORD)
        user = session.scalars(select(User)).one()
        idle, old, live = (start_session(session, user, NOW, None) for _ in range(3))
    with transaction(engine) as session:
        later = NOW + timedelta(minutes=20)
        assert session_principal(session, live, later, LIFE, None) is not None
        assert session_principal(session, old, later, LIFE, None) is not None
        # idle: 31 minutes without a request
        assert session_principal(session, idle, NOW + timedelta(minutes=31), LIFE, None) is None
    with transaction(engine) as session:
        # old: used every 20 minutes, but older than 8 hours in all
        t = NOW
        while t <= NOW + timedelta(hours=8):
            t += timedelta(minutes=20)
            found = session_principal(session, old, t, LIFE, None)
        assert found is None
    with transaction(engine) as session:
        assert session_principal(session, live, NOW + timedelta(minutes=40), LIFE, None)
        disable_user(session, cli_principal(), "ed@example.com")
    with transaction(engine) as session:
        assert session.scalars(select(WebSession)).all() == []
        assert session_principal(session, live, NOW + timedelta(minutes=41), LIFE, None) is None


def test_tokens_keep_only_a_hash_and_revocation_is_immediate(engine: Engine) -> None:
    with transaction(engine) as session:
        secret = create_token(session, cli_principal(), "cms", "editor")
        with pytest.raises(NewsletterError, match="role"):
            create_token(session, cli_principal(), "x", "owner")
    with transaction(engine) as session:
        stored = session.scalars(select(ApiToken)).one()
        assert secret not in (stored.token_hash, stored.name)
        who = token_principal(session, secret, NOW, "10.0.0.1")
        assert who is not None and who.role == Role.EDITOR and who.name == "cms"
        assert token_principal(session, secret + "x", NOW, None) is None
        revoke_token(session, cli_principal(), "cms", NOW)
    with transaction(engine) as session:
        assert token_principal(session, secret, NOW, None) is None
        actions = [line.action for line in audit.entries(session)]
    assert actions == ["token.create", "token.revoke"]


def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [NEWSLETTER, *args], input=stdin, capture_output=True, text=True, timeout=60
    )


def test_cli_users_tokens_and_audit(settings: Settings) -> None:
    added = run("users", "add", "boss@example.com", "--role", "owner", "--password-stdin",
                stdin=PASSWORD + "\n")  # fmt: skip
    assert added.returncode == 0, added.stderr
    refused = run("users", "add", "e@example.com", "--role", "boss", "--password-stdin",
                  stdin=PASSWORD + "\n")  # fmt: skip
    assert refused.returncode == 1 and "role" in refused.stderr
    token = run("tokens", "create", "cms", "--role", "viewer")
    assert token.returncode == 0 and token.stdout.startswith("nl_")
    assert "cms" in run("tokens", "list").stdout
    assert run("tokens", "revoke", "cms").returncode == 0
    last = run("users", "disable", "boss@example.com")
    assert last.returncode == 1 and "last active owner" in last.stderr
    second = run("users", "add", "two@example.com", "--role", "owner", "--password-stdin",
                 stdin=PASSWORD + "\n")  # fmt: skip
    assert second.returncode == 0, second.stderr
    demoted = run("users", "role", "two@example.com", "viewer")
    assert demoted.returncode == 0 and "now viewer" in demoted.stdout
    assert run("users", "disable", "boss@example.com").returncode == 1  # the last owner again
    assert run("users", "role", "two@example.com", "owner").returncode == 0
    assert run("users", "disable", "boss@example.com").returncode == 0
    assert run("users", "enable", "nobody@example.com").returncode == 1
    assert "disabled" in run("users", "list").stdout
    log = run("audit", "--since", "2020-01-01")
    assert log.returncode == 0
    for action in ("user.add", "token.create", "token.revoke", "user.disable", "user.role"):
        assert action in log.stdout
    assert run("audit", "--since", "yesterday").returncode == 1
