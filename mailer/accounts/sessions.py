"""Server-side sign-in sessions: idle and absolute expiry; sign-out deletes the row.

The browser holds a random secret; the table only its SHA-256, so a copy of the database
opens no session. A session dies when idle too long, when it is too old whatever its use,
when its user signs out, and when its user is disabled.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from mailer.accounts.models import User, WebSession
from mailer.accounts.principal import Principal, Role
from mailer.accounts.tokens import digest

# Refresh last_seen_at at most this often: a page view need not always write.
_TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class Lifetimes:
    idle: timedelta
    absolute: timedelta


def start_session(session: Session, user: User, now: datetime, ip: str | None) -> str:
    """A new session for `user`; returns the secret for the cookie."""
    secret = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            secret_hash=digest(secret), user_id=user.id, created_at=now, last_seen_at=now, ip=ip
        )
    )
    return secret


def session_principal(
    session: Session, secret: str, now: datetime, life: Lifetimes, ip: str | None
) -> Principal | None:
    """The signed-in person behind the cookie, or None (and the row gone) when expired."""
    if not secret or len(secret) > 100:
        return None
    found = session.execute(
        select(WebSession, User)
        .join(User, User.id == WebSession.user_id)
        .where(WebSession.secret_hash == digest(secret))
    ).first()
    if found is None:
        return None
    row, user = found
    expired = now - row.last_seen_at > life.idle or now - row.created_at > life.absolute
    if expired or user.disabled:
        session.execute(delete(WebSession).where(WebSession.id == row.id))
        return None
    if now - row.last_seen_at > _TOUCH_EVERY:
        session.execute(update(WebSession).where(WebSession.id == row.id).values(last_seen_at=now))
    return Principal("user", user.id, user.email, Role(user.role), ip)


def end_session(session: Session, secret: str) -> None:
    session.execute(delete(WebSession).where(WebSession.secret_hash == digest(secret)))
