"""Lists in the workspace: each with its title, public or private, and how many are on it;
create one, or rename, retitle, show or hide one (mailer.workspace.lists, audited)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import Field

from mailer.accounts.principal import Principal
from mailer.core.errors import NewsletterError
from mailer.web.admin.access import Editor, Viewer, render
from mailer.web.admin.forms import CsrfForm, checked
from mailer.web.deps import web
from mailer.workspace import lists as list_actions
from subscribers.db import transaction
from subscribers.errors import SubscriberError
from subscribers.lists import list_summaries

router = APIRouter()
NOTICES = {"created": "List created.", "saved": "List saved."}


class ListForm(CsrfForm):
    name: str = Field(default="", max_length=200)
    title: str = Field(default="", max_length=400)
    private: str = Field(default="", max_length=10)


def _page(
    request: Request,
    who: Principal,
    errors: dict[str, str],
    status: int = 200,
    **kept: Any,
) -> HTMLResponse:
    """The lists; `kept` is the form that failed (`f` for the new list, `editing` and `ef` for
    the list being changed) so the page shows it again as typed, with the error next to it."""
    with transaction(web(request).engine) as session:
        rows = list_summaries(session)
    done = next((text for key, text in NOTICES.items() if key in request.query_params), None)
    context = {
        "title": "Lists",
        "lists": rows,
        "f": {"name": "", "title": "", "private": ""},
        "editing": None,
        "ef": {},
        "errors": errors,
        "notice": done,
        **kept,
    }
    return render(request, "lists.html", who, context, status=status)


@router.get("/admin/lists", response_class=HTMLResponse)
async def lists(request: Request, who: Viewer) -> HTMLResponse:
    return await run_in_threadpool(_page, request, who, {})


@router.post("/admin/lists")
async def create(request: Request, who: Editor, form: Annotated[ListForm, Form()]) -> Response:
    checked(request, form)
    try:
        await run_in_threadpool(_create, request, who, form)
    except (NewsletterError, SubscriberError) as exc:
        fields = form.model_dump(exclude={"csrf_token"})
        return await run_in_threadpool(_page, request, who, {"name": str(exc)}, 400, f=fields)
    return RedirectResponse("/admin/lists?created=1", status_code=303)


def _create(request: Request, who: Principal, form: ListForm) -> None:
    with transaction(web(request).engine) as session:
        list_actions.create(session, who, form.name, form.title, not form.private)


@router.post("/admin/lists/{name:path}")
async def change(
    request: Request, name: str, who: Editor, form: Annotated[ListForm, Form()]
) -> Response:
    """Rename, retitle, make public or private: what the row's form says, all at once."""
    checked(request, form)
    try:
        await run_in_threadpool(_change, request, who, name, form)
    except (NewsletterError, SubscriberError) as exc:
        field = "title" if str(exc).startswith("title:") else "name"
        kept = {"editing": name, "ef": form.model_dump(exclude={"csrf_token"})}
        return await run_in_threadpool(
            _page, request, who, {f"edit-{field}": str(exc)}, 400, **kept
        )
    return RedirectResponse("/admin/lists?saved=1", status_code=303)


def _change(request: Request, who: Principal, name: str, form: ListForm) -> None:
    with transaction(web(request).engine) as session:
        list_actions.change(session, who, name, form.name, form.title, not form.private)
