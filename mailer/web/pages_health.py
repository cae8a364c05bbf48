"""GET /healthz: 200 when the database (and Redis, when configured) answer, else 503."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from mailer.web.deps import Web, web

router = APIRouter()


@router.get("/healthz")
async def healthz(request: Request) -> JSONResponse:
    checks = await run_in_threadpool(_checks, web(request))
    healthy = all(value == "ok" for value in checks.values())
    return JSONResponse(checks, status_code=200 if healthy else 503)


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
