"""People (owner only): the users (add, change role, disable, enable), API tokens (create,
shown once; revoke), and the audit log. The accounts services do the work, refuse to leave
the newsletter without an active owner, and write the audit entries."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import Field
from sqlalchemy.orm import Session

from mailer.accounts.audit import entries
from mailer.accounts.principal import Principal
from mailer.accounts.tokens import create_token, list_tokens, revoke_token
from mailer.accounts.users import add_user, disable_user, enable_user, list_users, set_role
from mailer.core.errors import NewsletterError
from mailer.web.admin.access import Owner, not_found, render
from mailer.web.admin.forms import CsrfForm, checked
from mailer.web.deps import web
from subscribers.db import transaction

router = APIRouter()
USER_FIELDS = ("email", "role", "password", "password2")
DONE = {
    "added": "User added.",
    "role": "Role changed.",
    "disable": "User disabled: their sessions have ended.",
    "enable": "User enabled.",
}


class NameForm(CsrfForm):
    name: str = Field(default="", max_length=200)
    role: str = Field(default="viewer", max_length=20)


class UserForm(CsrfForm):
    email: str = Field(default="", max_length=320)
    role: str = Field(default="editor", max_length=20)
    password: str = Field(default="", max_length=2000)
    password2: str = Field(default="", max_length=2000)


class UserAction(CsrfForm):
    email: str = Field(default="", max_length=320)
    role: str = Field(default="", max_length=20)


def _page(
    request: Request,
    who: Principal,
    errors: dict[str, str] | None = None,
    status: int = 200,
    **kept: Any,
) -> HTMLResponse:
    """`kept`: the new user or token typed (never the passwords), the user a row action was
    about (`acting`), or the new token's secret, shown this once."""
    with transaction(web(request).engine) as session:
        context: dict[str, Any] = {
            "title": "People",
            "users": list_users(session),
            "tokens": list_tokens(session),
            "audit": entries(session, limit=200),
        }
    done = next((text for key, text in DONE.items() if key in request.query_params), None)
    context.update({"errors": errors or {}, "secret": None, "name": "", "acting": None})
    context.update({"u": {"email": "", "role": "editor"}, "notice": done, **kept})
    return render(request, "people.html", who, context, status=status)


@router.get("/admin/people", response_class=HTMLResponse)
async def people(request: Request, who: Owner) -> HTMLResponse:
    return await run_in_threadpool(_page, request, who)


@router.post("/admin/people/users", response_class=HTMLResponse)
async def new_user(request: Request, who: Owner, form: Annotated[UserForm, Form()]) -> Response:
    """A new account, with the password rules of `newsletter users add` (typed twice)."""
    checked(request, form)
    try:
        if form.password != form.password2:
            raise NewsletterError("password2: the two passwords differ")
        await _write(request, lambda s: add_user(s, who, form.email, form.role, form.password))
    except NewsletterError as exc:
        head = str(exc).partition(":")[0]
        field = head if head in USER_FIELDS else "email"
        kept = {"u": {"email": form.email, "role": form.role}}
        return await run_in_threadpool(_page, request, who, {field: str(exc)}, 400, **kept)
    return RedirectResponse("/admin/people?added=1", status_code=303)


@router.post("/admin/people/users/{action}", response_class=HTMLResponse)
async def change_user(
    request: Request, action: str, who: Owner, form: Annotated[UserAction, Form()]
) -> Response:
    """Change a role, disable (every session of theirs ends now) or enable a user."""
    checked(request, form)
    actions: dict[str, Callable[[Session], object]] = {
        "role": lambda s: set_role(s, who, form.email, form.role),
        "disable": lambda s: disable_user(s, who, form.email),
        "enable": lambda s: enable_user(s, who, form.email),
    }
    if action not in actions:
        raise not_found("such action")
    try:
        await _write(request, actions[action])
    except NewsletterError as exc:  # NotFound included: the user is named in the message
        kept = {"acting": form.email.strip().lower()}
        return await run_in_threadpool(_page, request, who, {"user": str(exc)}, 400, **kept)
    return RedirectResponse(f"/admin/people?{action}=1", status_code=303)


async def _write(request: Request, change: Callable[[Session], object]) -> None:
    def run() -> None:
        with transaction(web(request).engine) as session:
            change(session)

    await run_in_threadpool(run)


@router.post("/admin/people/tokens", response_class=HTMLResponse)
async def new_token(request: Request, who: Owner, form: Annotated[NameForm, Form()]) -> Response:
    checked(request, form)
    try:
        secret = await run_in_threadpool(_create, request, who, form.name, form.role)
    except NewsletterError as exc:
        errors = {"name": str(exc)}
        return await run_in_threadpool(_page, request, who, errors, 400, name=form.name)
    return await run_in_threadpool(_page, request, who, secret=secret)


def _create(request: Request, who: Principal, name: str, role: str) -> str:
    with transaction(web(request).engine) as session:
        return create_token(session, who, name, role)


@router.post("/admin/people/tokens/revoke", response_class=HTMLResponse)
async def revoke(request: Request, who: Owner, form: Annotated[NameForm, Form()]) -> Response:
    checked(request, form)
    try:
        await _write(request, lambda s: revoke_token(s, who, form.name, datetime.now(UTC)))
    except NewsletterError as exc:
        return await run_in_threadpool(_page, request, who, {"revoke": str(exc)}, 400)
    return await run_in_threadpool(_page, request, who)
