"""Domain errors to JSON: `{"detail": ...}` with a 4xx status, never a stack trace."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError

from mailer.core.errors import Conflict, NewsletterError, NotFound
from mailer.workspace.guard import Forbidden
from subscribers.errors import SubscriberError

log = logging.getLogger(__name__)

# Most specific first: the first class the error is an instance of decides the status.
_STATUS: tuple[tuple[type[Exception], int], ...] = (
    (NotFound, 404),
    (Forbidden, 403),
    (Conflict, 409),
    (NewsletterError, 400),
    (SubscriberError, 400),
)


def status_of(exc: Exception) -> int:
    return next((code for kind, code in _STATUS if isinstance(exc, kind)), 400)


def install(api: FastAPI) -> None:
    @api.exception_handler(NewsletterError)
    @api.exception_handler(SubscriberError)
    async def domain(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=status_of(exc))

    @api.exception_handler(IntegrityError)
    async def clash(request: Request, exc: IntegrityError) -> JSONResponse:
        # Two requests created the same thing at once: the loser hears it exists already.
        log.info("integrity error on %s: %s", request.url.path, exc.orig)
        return JSONResponse({"detail": "it exists already (a concurrent request)"}, 409)

    @api.exception_handler(DataError)
    async def bad_value(request: Request, exc: DataError) -> JSONResponse:
        log.info("data error on %s: %s", request.url.path, exc.orig)
        return JSONResponse({"detail": "a value is out of range for the database"}, 400)

    @api.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> JSONResponse:
        log.exception("error on %s", request.url.path)
        return JSONResponse({"detail": "internal error"}, 500)
