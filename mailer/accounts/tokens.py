"""API tokens for programs: created with a role, shown once, stored as SHA-256, revocable."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from mailer.accounts import audit
from mailer.accounts.models import ApiToken
from mailer.accounts.principal import Principal, Role, check_role
from mailer.core.errors import NewsletterError, NotFound

PREFIX = "nl_"
# last_used_at is a hint for the owner, not a log: write it at most this often per token.
_TOUCH_EVERY = timedelta(minutes=1)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class TokenView:
    name: str
    role: str
    created_at: datetime
    created_by: str
    revoked_at: datetime | None
    last_used_at: datetime | None


def create_token(session: Session, actor: Principal, name: str, role: str) -> str:
    """The new token's secret (the only time anyone sees it)."""
    if not actor.allows(Role.OWNER):
        raise NewsletterError("only an owner creates tokens")
    name = name.strip()
    if not name or len(name) > 100:
        raise NewsletterError(f"name: 1 to 100 characters, not {name!r}")
    checked = check_role(role, (Role.EDITOR, Role.VIEWER))
    if session.scalars(select(ApiToken).where(ApiToken.name == name)).first() is not None:
        raise NewsletterError(f"name: a token {name!r} exists already")
    secret = PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(name=name, role=checked, token_hash=digest(secret), created_by=actor.name))
    audit.record(session, actor, "token.create", f"token {name}", f"role={checked}")
    return secret


def list_tokens(session: Session) -> list[TokenView]:
    rows = session.scalars(select(ApiToken).order_by(ApiToken.name))
    return [
        TokenView(t.name, t.role, t.created_at, t.created_by, t.revoked_at, t.last_used_at)
        for t in rows
    ]


def revoke_token(session: Session, actor: Principal, name: str, now: datetime) -> None:
    if not actor.allows(Role.OWNER):
        raise NewsletterError("only an owner revokes tokens")
    token = session.scalars(select(ApiToken).where(ApiToken.name == name.strip())).first()
    if token is None:
        raise NotFound(f"no token named {name.strip()!r}")
    if token.revoked_at is None:
        token.revoked_at = now
    audit.record(session, actor, "token.revoke", f"token {token.name}")


def token_principal(
    session: Session, secret: str, now: datetime, ip: str | None
) -> Principal | None:
    """Who a bearer secret stands for; None when unknown or revoked (checked on every call)."""
    if not secret.startswith(PREFIX) or len(secret) > 200:
        return None
    token = session.scalars(select(ApiToken).where(ApiToken.token_hash == digest(secret))).first()
    if token is None or token.revoked_at is not None:
        return None
    if token.last_used_at is None or now - token.last_used_at > _TOUCH_EVERY:
        session.execute(update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now))
    return Principal("token", token.id, token.name, Role(token.role), ip)
