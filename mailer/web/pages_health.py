"""GET /healthz: 200 when the database (and Redis, when configured) answer, else 503.

The `liveness` field reports scheduler and workers from their heartbeats without changing the
status code: a load balancer must not take the web app out because a worker is down."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from mailer.ops.liveness import liveness_checks
from mailer.web.deps import Web, web

router = APIRouter()


@router.get("/healthz")
async def healthz(request: Request) -> JSONResponse:
    app = web(request)
    checks = await run_in_threadpool(_checks, app)
    healthy = all(value == "ok" for value in checks.values())
    body: dict[str, object] = {**checks}
    if checks["database"] == "ok":
        body["liveness"] = await run_in_threadpool(_liveness, app)
    return JSONResponse(body, status_code=200 if healthy else 503)


def _liveness(app: Web) -> dict[str, dict[str, str]]:
    try:
        found = liveness_checks(app.engine, app.settings, datetime.now(UTC))
    except SQLAlchemyError as exc:
        return {"error": {"status": "WARN", "detail": type(exc).__name__}}
    return {c.name: {"status": str(c.status), "detail": c.detail} for c in found}


def _checks(app: Web) -> dict[str, str]:
    checks = {"database": "ok"}
    try:
        with app.engine.connect() as conn:
            conn.execute(text("SELECT 1 FROM sends LIMIT 1"))  # schema is there too
    except SQLAlchemyError as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    if app.settings.REDIS_URL:
        checks["redis"] = "ok" if app.limiter.ping() else "error: no answer"
    return checks
