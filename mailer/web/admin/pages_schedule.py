"""Schedule an issue: list, segment (live count), time; then the pre-flight page, then send.

The issue travels as its Markdown in a hidden field, so nothing is stored until the editor
confirms; a send due now needs the recipient count typed in, as a last look at the audience.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from mailer.accounts.principal import Principal
from mailer.core.errors import NewsletterError
from mailer.issue.parse import IssueError
from mailer.sending.create import create_send
from mailer.sending.pipeline import utcnow
from mailer.sending.preflight import FieldError, Plan, check_plan, preflight
from mailer.sending.test_copies import frozen_from_markdown
from mailer.web.admin.access import Editor, check_form, check_header, render
from mailer.web.admin.pages_editor import MAX_MARKDOWN, editor_preview
from mailer.web.deps import web
from subscribers.db import transaction
from subscribers.errors import SubscriberError
from subscribers.models import MailingList

router = APIRouter()
Text = Annotated[str, Form(max_length=MAX_MARKDOWN)]
Short = Annotated[str, Form(max_length=2000)]


class CountBody(BaseModel):
    list: str = Field(default="", max_length=200)
    segment: str = Field(default="", max_length=2000)


@router.post("/admin/segments/count")
async def count(request: Request, body: CountBody, who: Editor) -> JSONResponse:
    check_header(request)
    try:
        plan = await run_in_threadpool(_plan, request, body.list, body.segment, "", False)
    except FieldError as exc:
        return JSONResponse({"detail": exc.reason, "field": exc.field}, status_code=400)
    return JSONResponse({"count": plan.audience})


def _plan(request: Request, list_name: str, segment: str, at: str, local: bool) -> Plan:
    settings = web(request).settings
    return check_plan(
        web(request).engine, list_name, segment, at, local, settings.NEWSLETTER_TIMEZONE, utcnow()
    )


def _lists(request: Request) -> list[str]:
    with transaction(web(request).engine) as session:
        return list(session.scalars(select(MailingList.name).order_by(MailingList.name)))


def _form(
    request: Request,
    who: Principal,
    fields: dict[str, Any],
    status: int = 200,
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    context = {
        "title": "Schedule",
        "lists": _lists(request),
        "zone": web(request).settings.NEWSLETTER_TIMEZONE,
        "f": fields,
        "errors": errors or {},
    }
    return render(request, "schedule.html", who, context, status=status)


@router.post("/admin/issues/schedule", response_class=HTMLResponse)
async def schedule(
    request: Request, who: Editor, markdown: Text = "", csrf_token: Short = ""
) -> HTMLResponse:
    check_form(request, csrf_token)
    return _form(
        request,
        who,
        {"markdown": markdown, "list": "", "segment": "", "at": "", "local_time": False},
    )


@router.post("/admin/issues/preflight", response_class=HTMLResponse)
async def check(
    request: Request,
    who: Editor,
    markdown: Text = "",
    list: Short = "",
    segment: Short = "",
    at: Short = "",
    local_time: Short = "",
    csrf_token: Short = "",
) -> HTMLResponse:
    check_form(request, csrf_token)
    fields = {
        "markdown": markdown,
        "list": list,
        "segment": segment,
        "at": at,
        "local_time": bool(local_time),
    }
    try:
        return await run_in_threadpool(_preflight_page, request, who, fields, {}, 200)
    except FieldError as exc:
        return _form(request, who, fields, 400, {exc.field: exc.reason})
    except IssueError as exc:
        return _form(request, who, fields, 400, {"markdown": str(exc)})


def _preflight_page(
    request: Request, who: Principal, fields: dict[str, Any], errors: dict[str, str], status: int
) -> HTMLResponse:
    plan = _plan(request, fields["list"], fields["segment"], fields["at"], fields["local_time"])
    frozen = frozen_from_markdown(fields["markdown"], web(request).settings)
    info = preflight(web(request).engine, frozen, plan)
    context = {
        "title": "Pre-flight",
        "f": fields,
        "p": info,
        "errors": errors,
        "zone": web(request).settings.timezone,
        "warnings": _warnings(request, fields),
    }
    return render(request, "preflight.html", who, context, status=status)


def _warnings(request: Request, fields: dict[str, Any]) -> list[str]:
    return [note.message for note in editor_preview(request, fields["markdown"]).warnings]


@router.post("/admin/issues/send")
async def send(
    request: Request,
    who: Editor,
    markdown: Text = "",
    list: Short = "",
    segment: Short = "",
    at: Short = "",
    local_time: Short = "",
    confirm: Short = "",
    again: Short = "",
    csrf_token: Short = "",
) -> Response:
    check_form(request, csrf_token)
    fields = {
        "markdown": markdown,
        "list": list,
        "segment": segment,
        "at": at,
        "local_time": bool(local_time),
        "confirm": confirm,
        "again": bool(again),
    }
    try:
        send_id = await run_in_threadpool(_send, request, fields)
    except FieldError as exc:
        if exc.field in ("confirm", "again"):
            return await run_in_threadpool(
                _preflight_page, request, who, fields, {exc.field: exc.reason}, 400
            )
        return _form(request, who, fields, 400, {exc.field: exc.reason})
    except (IssueError, SubscriberError, NewsletterError) as exc:
        return _form(request, who, fields, 400, {"markdown": str(exc)})
    return RedirectResponse(f"/admin/sends/{send_id}", status_code=303)


def _send(request: Request, fields: dict[str, Any]) -> int:
    app = web(request)
    plan = _plan(request, fields["list"], fields["segment"], fields["at"], fields["local_time"])
    frozen = frozen_from_markdown(fields["markdown"], app.settings)
    info = preflight(app.engine, frozen, plan)
    if info.already and not fields["again"]:
        raise FieldError("again", "this issue already went (or is scheduled) to this list")
    if plan.when is None and fields["confirm"].strip() != str(plan.audience):
        raise FieldError("confirm", f"type {plan.audience} (the number of recipients) to send now")
    now = utcnow()
    send_id = create_send(
        app.engine,
        app.settings,
        frozen,
        plan.list_id,
        plan.segment,
        plan.when,
        plan.local_time,
        now,
    )
    if plan.when is None or plan.when.at <= now:
        from mailer.tasks.sending import start_send  # Celery is loaded only when used

        start_send.delay(send_id)
    return send_id
