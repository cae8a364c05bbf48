"""People who run the newsletter: add, list, change role, disable and enable, check a password
at sign-in, and remember where each last sent test copies.

There is always an active owner: the last one can be neither disabled nor demoted (someone
must be able to manage people without a shell on the server)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update
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
    user = _existing(session, email)
    _keep_an_owner(session, user, "disable")
    user.disabled = True
    session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    audit.record(session, actor, "user.disable", f"user {user.email}")
    return _view(user)


def enable_user(session: Session, actor: Principal, email: str) -> UserView:
    """A disabled account may sign in again (with its old password)."""
    if not actor.allows(Role.OWNER):
        raise NewsletterError("only an owner enables people")
    user = _existing(session, email)
    user.disabled = False
    audit.record(session, actor, "user.enable", f"user {user.email}")
    return _view(user)


def set_role(session: Session, actor: Principal, email: str, role: str) -> UserView:
    """A new role, in force from the user's next request (sessions read it every time)."""
    if not actor.allows(Role.OWNER):
        raise NewsletterError("only an owner changes roles")
    user, new = _existing(session, email), check_role(role)
    if new != Role.OWNER:
        _keep_an_owner(session, user, "demote")
    old, user.role = user.role, new
    audit.record(session, actor, "user.role", f"user {user.email}", f"{old}->{new}")
    return _view(user)


def _existing(session: Session, email: str) -> User:
    user = find_user(session, email)
    if user is None:
        raise NotFound(f"no user {email.strip().lower()[:320]!r}")
    return user


def _keep_an_owner(session: Session, user: User, verb: str) -> None:
    if user.role != Role.OWNER or user.disabled:
        return
    owners = session.scalar(
        select(func.count())
        .select_from(User)
        .where(User.role == Role.OWNER, User.disabled.is_(False))
    )
    if (owners or 0) <= 1:
        raise NewsletterError(
            f"{user.email} is the last active owner: make someone else owner before you {verb} them"
        )


def remembered_test_to(session: Session, actor: Principal) -> str:
    """The addresses this person last sent test copies to ("" for a token or the CLI)."""
    if actor.kind != "user" or actor.id is None:
        return ""
    return session.scalar(select(User.test_to).where(User.id == actor.id)) or ""


def remember_test_to(session: Session, actor: Principal, addresses: list[str]) -> None:
    if actor.kind == "user" and actor.id is not None:
        session.execute(
            update(User).where(User.id == actor.id).values(test_to=" ".join(addresses)[:2000])
        )


def authenticate(session: Session, email: str, password: str, now: datetime) -> User | None:
    """The enabled user with this address and password, else None (whichever was wrong)."""
    user = find_user(session, email)
    stored = user.password_hash if user is not None and not user.disabled else None
    if not verify_password(stored, password) or user is None:
        return None
    user.last_sign_in_at = now
    return user
