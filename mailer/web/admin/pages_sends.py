"""The sends: the list, one send's page with live progress, and pause / resume / cancel."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from mailer.accounts.principal import Principal
from mailer.core.errors import NewsletterError
from mailer.core.models import SendState
from mailer.sending import control
from mailer.sending.pipeline import utcnow
from mailer.web.admin.access import Editor, Viewer, check_form, not_found, render
from mailer.web.deps import web
from mailer.web.reports import render_report
from mailer.workspace import sends

router = APIRouter()
FINISHED = (SendState.DONE, SendState.FAILED, SendState.CANCELLED)
ACTIONS = ("pause", "resume", "cancel", "resend")


@router.get("/admin/sends", response_class=HTMLResponse)
async def sends_list(request: Request, who: Viewer) -> HTMLResponse:
    rows = await run_in_threadpool(control.recent_sends, web(request).engine, 100)
    return render(request, "sends.html", who, {"title": "Sends", "sends": rows})


def _progress(request: Request, send_id: int) -> control.Progress:
    try:
        return control.progress(web(request).engine, send_id)
    except NewsletterError as exc:
        raise not_found(f"send {send_id}") from exc


@router.get("/admin/sends/{send_id}", response_class=HTMLResponse)
async def send_page(request: Request, send_id: int, who: Viewer) -> HTMLResponse:
    item = await run_in_threadpool(_progress, request, send_id)
    return _page(request, who, item, message=request.query_params.get("done"))


def _page(
    request: Request,
    who: Viewer,
    item: control.Progress,
    message: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    context = {
        "title": f"Send {item.id}",
        "send": item,
        "finished": item.state in FINISHED,
        "message": message if message in ACTIONS else None,
        "error": error,
    }
    return render(request, "send.html", who, context, status=status)


@router.get("/admin/sends/{send_id}/progress")
async def send_progress(request: Request, send_id: int, who: Viewer) -> JSONResponse:
    item = await run_in_threadpool(_progress, request, send_id)
    done = item.sent + item.skipped + item.failed + item.uncertain + item.cancelled
    data = {**item.as_dict(), "done": done, "finished": item.state in FINISHED}
    data.pop("errors"), data.pop("batches")
    return JSONResponse(data, headers={"Cache-Control": "no-store"})


@router.get("/admin/sends/{send_id}/report", response_class=HTMLResponse)
async def report(request: Request, send_id: int, who: Viewer) -> HTMLResponse:
    """Today's report page (its chart included), opened by role instead of ADMIN_TOKEN."""
    return await render_report(request, send_id)


@router.post("/admin/sends/{send_id}/{action}")
async def control_send(
    request: Request,
    send_id: int,
    action: str,
    who: Editor,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_form(request, csrf_token)
    if action not in ACTIONS:
        raise not_found("such action")
    item = await run_in_threadpool(_progress, request, send_id)
    try:
        await run_in_threadpool(_apply, request, who, send_id, action)
    except NewsletterError as exc:
        return _page(request, who, item, error=str(exc), status=409)
    return RedirectResponse(f"/admin/sends/{send_id}?done={action}", status_code=303)


def _apply(request: Request, who: Principal, send_id: int, action: str) -> None:
    resend = action == "resend"
    verb = "resume" if resend else action
    state = sends.act(web(request).engine, who, send_id, verb, utcnow(), resend_uncertain=resend)
    if verb == "resume":
        _restart(request, send_id, state)


def _restart(request: Request, send_id: int, state: str) -> None:
    """A resumed send goes on at once; one that never started waits for its time, as the CLI."""
    from mailer.tasks.sending import kick, start_send  # Celery is loaded only when used

    settings = web(request).settings
    if state == SendState.SENDING:
        kick(send_id, settings)
        return
    send = control.get_send(web(request).engine, send_id)
    if send.scheduled_at is not None and send.scheduled_at <= utcnow():
        start_send.delay(send_id)
