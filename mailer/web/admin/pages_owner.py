"""People (owner only): the users and their roles, API tokens (create, shown once; revoke),
and the audit log. The accounts services do the work and write the audit entries."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from mailer.accounts.audit import entries
from mailer.accounts.principal import Principal
from mailer.accounts.tokens import create_token, list_tokens, revoke_token
from mailer.accounts.users import list_users
from mailer.core.errors import NewsletterError
from mailer.web.admin.access import Owner, check_form, render
from mailer.web.deps import web
from subscribers.db import transaction

router = APIRouter()
Short = Annotated[str, Form(max_length=200)]


def _page(
    request: Request,
    who: Principal,
    errors: dict[str, str] | None = None,
    secret: str | None = None,
    status: int = 200,
    name: str = "",
) -> HTMLResponse:
    with transaction(web(request).engine) as session:
        context: dict[str, object] = {
            "title": "People",
            "users": list_users(session),
            "tokens": list_tokens(session),
            "audit": entries(session, limit=200),
        }
    context.update({"errors": errors or {}, "secret": secret, "name": name})
    return render(request, "people.html", who, context, status=status)


@router.get("/admin/people", response_class=HTMLResponse)
async def people(request: Request, who: Owner) -> HTMLResponse:
    return await run_in_threadpool(_page, request, who)


@router.post("/admin/people/tokens", response_class=HTMLResponse)
async def new_token(
    request: Request, who: Owner, name: Short = "", role: Short = "viewer", csrf_token: Short = ""
) -> HTMLResponse:
    check_form(request, csrf_token)
    try:
        secret = await run_in_threadpool(_create, request, who, name, role)
    except NewsletterError as exc:
        return await run_in_threadpool(_page, request, who, {"name": str(exc)}, None, 400, name)
    return await run_in_threadpool(_page, request, who, None, secret)


def _create(request: Request, who: Principal, name: str, role: str) -> str:
    with transaction(web(request).engine) as session:
        return create_token(session, who, name, role)


@router.post("/admin/people/tokens/revoke", response_class=HTMLResponse)
async def revoke(
    request: Request, who: Owner, name: Short = "", csrf_token: Short = ""
) -> HTMLResponse:
    check_form(request, csrf_token)
    try:
        await run_in_threadpool(_revoke, request, who, name)
    except NewsletterError as exc:
        return await run_in_threadpool(_page, request, who, {"revoke": str(exc)}, None, 400)
    return await run_in_threadpool(_page, request, who)


def _revoke(request: Request, who: Principal, name: str) -> None:
    with transaction(web(request).engine) as session:
        revoke_token(session, who, name, datetime.now(UTC))
