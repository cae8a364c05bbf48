"""Schedule a stored issue: list, segment (live count), time; then the pre-flight page, then send.

Nothing is stored until the editor confirms; a send due now needs the recipient count typed
in, as a last look at the audience (as GitHub asks for a repository's name before deleting it).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from mailer.accounts.principal import Principal
from mailer.core.errors import NewsletterError, NotFound
from mailer.issue.store import get_issue
from mailer.sending.create import Frozen, frozen_of
from mailer.sending.pipeline import utcnow
from mailer.sending.preflight import FieldError, Plan, check_plan, preflight
from mailer.web.admin.access import Editor, check_header, not_found, render
from mailer.web.admin.forms import ScheduleForm, checked
from mailer.web.deps import web
from mailer.workspace import sends
from subscribers.db import transaction
from subscribers.models import MailingList

router = APIRouter()


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


def _issue(request: Request, issue_id: int) -> tuple[Frozen, list[str]]:
    with transaction(web(request).engine) as session:
        try:
            row = get_issue(session, issue_id)
        except NotFound as exc:
            raise not_found(f"issue {issue_id}") from exc
        try:
            return frozen_of(row), list(row.warnings)
        except NewsletterError as exc:  # a draft that does not parse cannot go out
            raise FieldError("issue", str(exc)) from exc


def schedule_form(
    request: Request,
    who: Principal,
    fields: dict[str, Any],
    status: int = 200,
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    with transaction(web(request).engine) as session:
        lists = list(session.scalars(select(MailingList.name).order_by(MailingList.name)))
    blank = {"list": "", "segment": "", "at": "", "local_time": False}
    context = {
        "title": "Schedule",
        "lists": lists,
        "zone": web(request).settings.NEWSLETTER_TIMEZONE,
        "f": {**blank, **fields},
        "errors": errors or {},
    }
    return render(request, "schedule.html", who, context, status=status)


@router.post("/admin/issues/{issue_id}/preflight", response_class=HTMLResponse)
async def check(
    request: Request, issue_id: int, who: Editor, form: Annotated[ScheduleForm, Form()]
) -> HTMLResponse:
    fields = checked(request, form).fields(issue_id)
    try:
        return await run_in_threadpool(_preflight_page, request, who, fields, {}, 200)
    except FieldError as exc:
        return schedule_form(request, who, fields, 400, {exc.field: exc.reason})


def _preflight_page(
    request: Request, who: Principal, fields: dict[str, Any], errors: dict[str, str], status: int
) -> HTMLResponse:
    frozen, warnings = _issue(request, fields["issue_id"])
    plan = _plan(request, fields["list"], fields["segment"], fields["at"], fields["local_time"])
    info = preflight(web(request).engine, frozen, plan)
    context = {
        "title": "Pre-flight",
        "f": fields,
        "p": info,
        "errors": errors,
        "zone": web(request).settings.timezone,
        "warnings": warnings,
    }
    return render(request, "preflight.html", who, context, status=status)


@router.post("/admin/issues/{issue_id}/send")
async def send(
    request: Request, issue_id: int, who: Editor, form: Annotated[ScheduleForm, Form()]
) -> Response:
    fields = checked(request, form).fields(issue_id)
    try:
        send_id = await run_in_threadpool(_send, request, who, fields)
    except FieldError as exc:
        if exc.field in ("confirm", "again"):
            errors = {exc.field: exc.reason}
            return await run_in_threadpool(_preflight_page, request, who, fields, errors, 400)
        return schedule_form(request, who, fields, 400, {exc.field: exc.reason})
    return RedirectResponse(f"/admin/sends/{send_id}", status_code=303)


def _send(request: Request, who: Principal, fields: dict[str, Any]) -> int:
    app = web(request)
    frozen, _warnings = _issue(request, fields["issue_id"])
    plan = _plan(request, fields["list"], fields["segment"], fields["at"], fields["local_time"])
    info = preflight(app.engine, frozen, plan)
    if info.already and not fields["again"]:
        raise FieldError("again", "this issue already went (or is scheduled) to this list")
    if plan.when is None and fields["confirm"].strip() != str(plan.audience):
        raise FieldError("confirm", f"type {plan.audience} (the number of recipients) to send now")
    now = utcnow()
    wanted = sends.NewSend(
        fields["issue_id"],
        plan.list_name,
        plan.segment,
        fields["at"] or None,
        plan.local_time,
        bool(fields["again"]),
    )
    send_id = sends.create(app.engine, app.settings, who, wanted, now).id
    if plan.when is None or plan.when.at <= now:
        from mailer.tasks.sending import start_send  # Celery is loaded only when used

        start_send.delay(send_id)
    return send_id
