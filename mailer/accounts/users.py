"""People who run the newsletter: add, list, disable, and check a password at sign-in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from mailer.accounts import audit
from mailer.accounts.models import User, WebSession
from mailer.accounts.passwords import hash_password, verify_password
from mailer.accounts.principal import Principal, Role, check_role
from mailer.core.errors import NewsletterError, NotFound
from subscribers.errors import SubscriberError
from subscribers.store import check_email


@dataclass(frozen=True, slots=True)
class UserView:
    id: int
    email: str
    role: str
    disabled: bool
    created_at: datetime
    last_sign_in_at: datetime | None


def _view(user: User) -> UserView:
    return UserView(
        user.id, user.email, user.role, user.disabled, user.created_at, user.last_sign_in_at
    )


def _email(value: str) -> str:
    try:
        return check_email(value).lower()
    except SubscriberError as exc:
        raise NewsletterError(f"email: {exc}") from None


def find_user(session: Session, email: str) -> User | None:
    return session.scalars(select(User).where(User.email == email.strip().lower())).first()


def add_user(session: Session, actor: Principal, email: str, role: str, password: str) -> UserView:
    """A new account; only an owner adds people (the server's CLI is one)."""
    if not actor.allows(Role.OWNER):
        raise NewsletterError("only an owner adds people")
    address, checked_role = _email(email), check_role(role)
    if find_user(session, address) is not None:
        raise NewsletterError(f"email: a user {address!r} exists already")
    user = User(email=address, role=checked_role, password_hash=hash_password(password))
    session.add(user)
    session.flush()
    audit.record(session, actor, "user.add", f"user {address}", f"role={checked_role}")
    return _view(user)


def list_users(session: Session) -> list[UserView]:
    return [_view(u) for u in session.scalars(select(User).order_by(User.email))]


def disable_user(session: Session, actor: Principal, email: str) -> UserView:
    """The account can no longer sign in, and every session it has ends now."""
    if not actor.allows(Role.OWNER):
        raise NewsletterError("only an owner disables people")
    user = find_user(session, email)
    if user is None:
        raise NotFound(f"no user {email.strip().lower()!r}")
    user.disabled = True
    session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    audit.record(session, actor, "user.disable", f"user {user.email}")
    return _view(user)


def authenticate(session: Session, email: str, password: str, now: datetime) -> User | None:
    """The enabled user with this address and password, else None (whichever was wrong)."""
    user = find_user(session, email)
    stored = user.password_hash if user is not None and not user.disabled else None
    if not verify_password(stored, password) or user is None:
        return None
    user.last_sign_in_at = now
    return user
