"""GET/POST /admin/login and POST /admin/logout (the home page is pages_home).

Sign-in is throttled per account and per client IP (through Redis when configured), and
gives one answer for "no such account", "disabled" and "wrong password". A session is a row
on the server (see mailer.accounts.sessions); signing out deletes it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from mailer.accounts import audit
from mailer.accounts.principal import Principal, Role
from mailer.accounts.sessions import end_session, start_session
from mailer.accounts.users import authenticate
from mailer.web import csrf
from mailer.web.admin.auth import (
    COOKIE,
    SignInRequired,
    current_principal,
    login_redirect,
    safe_next,
    set_session_cookie,
)
from mailer.web.deps import TEMPLATES_DIR, PageError, brand, client_ip, web
from subscribers.db import transaction

router = APIRouter()
ADMIN_TEMPLATES = TEMPLATES_DIR.parent / "admin"
WINDOW_SECONDS = 15 * 60
WRONG = "Wrong email or password."


def templates(request: Request) -> Jinja2Templates:
    """The workspace's templates (they may extend the reader pages' base), built once."""
    state = request.app.state
    if not hasattr(state, "admin_templates"):
        found = Jinja2Templates(directory=[str(ADMIN_TEMPLATES), str(TEMPLATES_DIR)])
        found.env.globals["brand"] = brand(web(request).settings)
        state.admin_templates = found
    result: Jinja2Templates = state.admin_templates
    return result


def admin_page(
    request: Request, name: str, context: dict[str, Any], status: int = 200
) -> HTMLResponse:
    return templates(request).TemplateResponse(request, name, context, status_code=status)


@router.get("/admin/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/admin") -> HTMLResponse:
    return _login_form(request, next, email="", error="")


def _login_form(
    request: Request, next_path: str, email: str, error: str, status: int = 200
) -> HTMLResponse:
    token = csrf.issue(request, "admin-login")
    context = {"title": "Sign in", "csrf_token": token.value, "next": safe_next(next_path)}
    response = admin_page(
        request, "login.html", {**context, "email": email, "error": error}, status
    )
    csrf.remember(request, response, token)
    return response


@router.post("/admin/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    form = await request.form(max_files=0, max_fields=10)
    csrf.check(request, "admin-login", form.get(csrf.FIELD))
    email = str(form.get("email") or "").strip()[:320]
    password = str(form.get("password") or "")
    next_path = safe_next(str(form.get("next") or ""))
    secret = await run_in_threadpool(_sign_in, request, email, password)
    if secret is None:
        return _login_form(request, next_path, email, WRONG, status=400)
    response = Response(status_code=303, headers={"Location": next_path})
    set_session_cookie(request, response, secret)
    return response


def _sign_in(request: Request, email: str, password: str) -> str | None:
    """The new session's secret, or None; throttled before the password is even checked."""
    app, ip = web(request), client_ip(request)
    cfg = app.settings
    account_ok = app.limiter.allow(
        f"signin:acct:{email.lower()}", 1, cfg.SIGNIN_LIMIT_PER_ACCOUNT, WINDOW_SECONDS
    )
    if not account_ok or not app.limiter.allow(
        f"signin:ip:{ip}", 1, cfg.SIGNIN_LIMIT_PER_IP, WINDOW_SECONDS
    ):
        raise PageError(429, "Please slow down", "Too many sign-in attempts. Try again later.")
    now = datetime.now(UTC)
    with transaction(app.engine) as session:
        user = authenticate(session, email, password, now)
        if user is None:
            return None
        secret = start_session(session, user, now, ip)
        actor = Principal("user", user.id, user.email, Role(user.role), ip)
        audit.record(session, actor, "session.sign_in", f"user {user.email}")
    return secret


@router.post("/admin/logout")
async def logout(request: Request) -> Response:
    form = await request.form(max_files=0, max_fields=5)
    csrf.check(request, "admin", form.get(csrf.FIELD))
    secret = request.cookies.get(COOKIE, "")
    if secret:
        await run_in_threadpool(_sign_out, request, secret)
    response = Response(status_code=303, headers={"Location": "/admin/login"})
    response.delete_cookie(COOKIE, path="/admin")
    return response


def _sign_out(request: Request, secret: str) -> None:
    who = current_principal(request)
    with transaction(web(request).engine) as session:
        end_session(session, secret)
        if who is not None:
            audit.record(session, who, "session.sign_out", f"user {who.name}")


def install(app: FastAPI) -> None:
    """Add the workspace routes and the sign-in redirect."""

    @app.exception_handler(SignInRequired)
    async def sign_in_first(request: Request, exc: SignInRequired) -> Response:
        return login_redirect(exc.next_path)

    app.include_router(router)
