"""Lists in the workspace: each with its title, public or private, and how many are on it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mailer.accounts.principal import Principal
from mailer.core.errors import NewsletterError
from mailer.web.admin.access import Editor, Viewer, check_form, render
from mailer.web.deps import web
from mailer.workspace import lists as list_actions
from subscribers.db import transaction
from subscribers.errors import SubscriberError
from subscribers.lists import list_summaries

router = APIRouter()
Short = Annotated[str, Form(max_length=200)]


def _page(
    request: Request,
    who: Principal,
    fields: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
) -> HTMLResponse:
    with transaction(web(request).engine) as session:
        rows = list_summaries(session)
    context = {
        "title": "Lists",
        "lists": rows,
        "f": fields,
        "errors": errors,
        "notice": request.query_params.get("created"),
    }
    return render(request, "lists.html", who, context, status=status)


@router.get("/admin/lists", response_class=HTMLResponse)
async def lists(request: Request, who: Viewer) -> HTMLResponse:
    return await run_in_threadpool(_page, request, who, {"name": "", "title": ""}, {})


@router.post("/admin/lists")
async def create(
    request: Request,
    who: Editor,
    name: Short = "",
    title: Short = "",
    private: Short = "",
    csrf_token: Short = "",
) -> Response:
    check_form(request, csrf_token)
    try:
        await run_in_threadpool(_create, request, who, name, title, not private)
    except (NewsletterError, SubscriberError) as exc:
        fields = {"name": name, "title": title, "private": private}
        return await run_in_threadpool(_page, request, who, fields, {"name": str(exc)}, 400)
    return RedirectResponse("/admin/lists?created=1", status_code=303)


def _create(request: Request, who: Principal, name: str, title: str, public: bool) -> None:
    with transaction(web(request).engine) as session:
        list_actions.create(session, who, name, title, public)
