"""GET /admin/reports: trends across the last issues and their most clicked links (each
send's own report, with its chart, is /admin/sends/{id}/report)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from mailer.events.trends import Trends, trends
from mailer.web.admin.access import Viewer, render
from mailer.web.deps import web
from subscribers.db import transaction

router = APIRouter()


def _load(request: Request) -> Trends:
    with transaction(web(request).engine) as session:
        return trends(session)


@router.get("/admin/reports", response_class=HTMLResponse)
async def reports(request: Request, who: Viewer) -> HTMLResponse:
    data = await run_in_threadpool(_load, request)
    return render(request, "reports.html", who, {"title": "Reports", "t": data})
