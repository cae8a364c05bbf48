"""GET /admin: the next send, sends under way, the last results, and what needs a person."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from mailer.events.report import Thresholds
from mailer.sending.overview import overview
from mailer.sending.pipeline import utcnow
from mailer.web.admin.access import Viewer, render
from mailer.web.deps import web

router = APIRouter()


@router.get("/admin", response_class=HTMLResponse)
async def home(request: Request, who: Viewer) -> HTMLResponse:
    app = web(request)
    limits = Thresholds.from_settings(app.settings)
    every = app.settings.SCHEDULER_INTERVAL_SECONDS
    data = await run_in_threadpool(overview, app.engine, limits, utcnow(), every)
    context = {"title": "Home", "data": data, "zone": app.settings.timezone}
    return render(request, "home.html", who, context)
