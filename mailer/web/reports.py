"""GET /reports/{send_id}: the send report as a page for the operator.

Operator-only: it needs ADMIN_TOKEN, given as `?token=...`, an `X-Admin-Token` header or
`Authorization: Bearer ...`. Without ADMIN_TOKEN configured the page is refused (403), so a
fresh install never shows its numbers to the world. The chart is inline SVG; no script runs.
"""

from __future__ import annotations

import hmac
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import Engine

from mailer.core.errors import NewsletterError
from mailer.core.settings import Settings
from mailer.events.report import HOURS, Thresholds, chart_bars
from mailer.events.report_queries import send_report
from mailer.web.webhooks import app_engine
from subscribers.db import transaction

router = APIRouter()
TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "pages"
# A self-contained page: its own inline stylesheet, nothing else loads, nothing runs.
REPORT_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"
)


@lru_cache(maxsize=1)
def _templates() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape())


def presented_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    bearer = header[7:] if header.lower().startswith("bearer ") else ""
    return request.query_params.get("token") or request.headers.get("x-admin-token") or bearer


def _refusal(settings: Settings, request: Request) -> HTMLResponse | None:
    if not settings.ADMIN_TOKEN:
        return _plain(403, "Reports are disabled: set ADMIN_TOKEN to open them.")
    given = presented_token(request).encode()
    if not hmac.compare_digest(given, settings.ADMIN_TOKEN.encode()):
        return _plain(401, "This page needs the operator token (?token=...).")
    return None


def _plain(status: int, message: str) -> HTMLResponse:
    html = f"<!doctype html><title>Report</title><p>{message}</p>"
    return HTMLResponse(html, status_code=status, headers={"Content-Security-Policy": REPORT_CSP})


def _load(engine: Engine, settings: Settings, send_id: int) -> dict[str, Any]:
    with transaction(engine) as session:
        return send_report(session, send_id, Thresholds.from_settings(settings))


@router.get("/reports/{send_id}", response_class=HTMLResponse)
async def report_page(send_id: int, request: Request) -> HTMLResponse:
    settings: Settings = request.app.state.settings
    refused = _refusal(settings, request)
    if refused is not None:
        return refused
    return await render_report(request, send_id)


async def render_report(request: Request, send_id: int) -> HTMLResponse:
    """The report page itself; the caller decided who may see it (token or workspace role)."""
    settings: Settings = request.app.state.settings
    try:
        report = await run_in_threadpool(_load, app_engine(request), settings, send_id)
    except NewsletterError as exc:
        return _plain(404, str(exc))
    html = (
        _templates()
        .get_template("report.html")
        .render(
            report=report,
            bars=chart_bars(report["hourly"]),
            hours=HOURS,
        )
    )
    return HTMLResponse(html, headers={"Content-Security-Policy": REPORT_CSP})
