"""Who is signed in to the workspace: the session cookie, and the role a page needs.

`page_principal(Role.EDITOR)` as a dependency gives the signed-in Principal; signed out, the
visitor is sent (303) to /admin/login?next=...; signed in with too small a role, a 403 page.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from fastapi import Request, Response

from mailer.accounts.principal import Principal, Role
from mailer.accounts.sessions import Lifetimes, session_principal
from mailer.web.deps import PageError, client_ip, web
from subscribers.db import transaction

COOKIE = "nl_session"
LOGIN_PATH = "/admin/login"


class SignInRequired(Exception):
    """Answered with a redirect to the sign-in page, coming back to `next_path` after."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def lifetimes(request: Request) -> Lifetimes:
    cfg = web(request).settings
    return Lifetimes(
        idle=timedelta(minutes=cfg.SESSION_IDLE_MINUTES),
        absolute=timedelta(hours=cfg.SESSION_MAX_HOURS),
    )


def current_principal(request: Request) -> Principal | None:
    """The person signed in on this browser, or None; also kept on `request.state`."""
    secret = request.cookies.get(COOKIE, "")
    if not secret:
        return None
    now = datetime.now(UTC)
    with transaction(web(request).engine) as session:
        found = session_principal(session, secret, now, lifetimes(request), client_ip(request))
    request.state.principal = found
    return found


def page_principal(needed: Role) -> Callable[[Request], Principal]:
    """A dependency for a workspace page that needs at least the role `needed`."""

    def dependency(request: Request) -> Principal:
        found = current_principal(request)
        if found is None:
            raise SignInRequired(
                request.url.path + (f"?{request.url.query}" if request.url.query else "")
            )
        if not found.allows(needed):
            raise PageError(
                403, "Not allowed", f"Your role ({found.role}) cannot do this: it needs {needed}."
            )
        return found

    return dependency


def safe_next(value: str | None) -> str:
    """Only a path inside the workspace: never another site (open redirect)."""
    if value and value.startswith("/admin") and not value.startswith("//") and "\\" not in value:
        return value
    return "/admin"


def login_redirect(next_path: str) -> Response:
    target = f"{LOGIN_PATH}?next={quote(safe_next(next_path), safe='/')}"
    return Response(status_code=303, headers={"Location": target})


def set_session_cookie(request: Request, response: Response, secret: str) -> None:
    response.set_cookie(
        COOKIE,
        secret,
        max_age=web(request).settings.SESSION_MAX_HOURS * 3600,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/admin",
    )
