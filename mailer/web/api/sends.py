"""/api/v1/sends: create a send of a stored issue, list and follow sends, control, report."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Path, Query, Request

from mailer.accounts.principal import Principal, Role
from mailer.events.report import Thresholds
from mailer.events.report_queries import send_report
from mailer.sending import control
from mailer.tasks.sending import kick, start_send
from mailer.web.api.auth import api_principal
from mailer.web.api.schemas import Report, SendCreated, SendIn, SendState
from mailer.web.deps import web
from mailer.workspace import sends
from subscribers.db import transaction

router = APIRouter()
Viewer = Annotated[Principal, Depends(api_principal(Role.VIEWER))]
Editor = Annotated[Principal, Depends(api_principal(Role.EDITOR))]
SendId = Annotated[int, Path(ge=1, le=2_147_483_647)]


@router.post("/sends", response_model=SendCreated, status_code=201)
def post_send(
    request: Request, body: SendIn, who: Editor, background: BackgroundTasks
) -> SendCreated:
    """A send of a stored issue; one due now starts after the answer (like `newsletter send`)."""
    app, now = web(request), datetime.now(UTC)
    wanted = sends.NewSend(
        body.issue_id, body.list_name, body.segment, body.at, body.local_time, body.again
    )
    created = sends.create(app.engine, app.settings, who, wanted, now)
    if created.scheduled_at is not None and created.scheduled_at <= now:
        background.add_task(start_send.delay, created.id)
    return SendCreated(**asdict(created))


@router.get("/sends", response_model=list[SendState])
def get_sends(
    request: Request, who: Viewer, limit: Annotated[int, Query(ge=1, le=200)] = 20
) -> list[SendState]:
    rows = control.recent_sends(web(request).engine, limit)
    return [SendState(**row.as_dict()) for row in rows]


@router.get("/sends/{send_id}", response_model=SendState)
def get_send(request: Request, send_id: SendId, who: Viewer) -> SendState:
    engine = web(request).engine
    sends.exists(engine, send_id)
    return SendState(**control.progress(engine, send_id).as_dict())


def _control(request: Request, send_id: int, who: Principal, action: str) -> SendState:
    app = web(request)
    state = sends.act(app.engine, who, send_id, action, datetime.now(UTC))
    if action == "resume" and state == "sending":
        kick(send_id, app.settings)
    return SendState(**control.progress(app.engine, send_id).as_dict())


@router.post("/sends/{send_id}/pause", response_model=SendState)
def pause(request: Request, send_id: SendId, who: Editor) -> SendState:
    return _control(request, send_id, who, "pause")


@router.post("/sends/{send_id}/resume", response_model=SendState)
def resume(request: Request, send_id: SendId, who: Editor) -> SendState:
    return _control(request, send_id, who, "resume")


@router.post("/sends/{send_id}/cancel", response_model=SendState)
def cancel(request: Request, send_id: SendId, who: Editor) -> SendState:
    return _control(request, send_id, who, "cancel")


@router.get("/sends/{send_id}/report", response_model=Report)
def report(request: Request, send_id: SendId, who: Viewer) -> Report:
    app = web(request)
    sends.exists(app.engine, send_id)
    with transaction(app.engine) as session:
        return Report(send_report(session, send_id, Thresholds.from_settings(app.settings)))
