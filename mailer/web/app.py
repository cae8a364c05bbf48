"""Builds the FastAPI app from settings; each page family is a router module of its own."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis
from fastapi import FastAPI, Request
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from starlette.exceptions import HTTPException

from mailer.core.settings import Settings, load_settings
from mailer.web import (
    pages_feed,
    pages_forward,
    pages_health,
    pages_issue,
    pages_preferences,
    pages_signup,
    pages_unsubscribe,
    reports,
    webhooks,
)
from mailer.web.admin import routes as admin_routes
from mailer.web.admin import signin as admin_signin
from mailer.web.api.app import PREFIX as API_PREFIX
from mailer.web.api.app import create_api
from mailer.web.deps import PageError, Web, page
from mailer.web.headers import DEFAULTS, SecurityHeaders
from mailer.web.slow_clients import BodyDeadline

log = logging.getLogger(__name__)

_TITLES = {404: "Not found", 405: "Not allowed", 429: "Please slow down"}


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()
    app = FastAPI(
        title="newsletter", docs_url=None, redoc_url=None, openapi_url=None, lifespan=_lifespan
    )
    app.state.settings = settings
    app.state.web = Web.build(settings)
    app.state.engine = app.state.web.engine
    app.add_middleware(SecurityHeaders)
    app.add_middleware(BodyDeadline, seconds=settings.HTTP_BODY_TIMEOUT_SECONDS)
    for router in (
        pages_unsubscribe.router,
        pages_preferences.router,
        pages_forward.router,
        pages_feed.router,  # before pages_issue: /archive/feed.xml is not an issue's slug
        pages_issue.router,
        pages_signup.router,
        pages_health.router,
    ):
        app.include_router(router)
    app.include_router(webhooks.router)
    app.include_router(reports.router)
    admin_signin.install(app)
    admin_routes.install(app)
    app.mount(API_PREFIX, create_api(app.state.web))
    app.add_api_route("/static/site.css", stylesheet, methods=["GET"], include_in_schema=False)
    app.add_api_route("/", home, methods=["GET"], include_in_schema=False)
    _error_pages(app)
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Before the first request: the editor's first preview should not pay for start-up, nor
    any request for a collection of what start-up loaded."""
    from mailer.issue.branding import Branding
    from mailer.issue.preview import warm_up

    try:
        warm_up(Branding.from_settings(app.state.settings))
    except Exception:  # a slower first preview is no reason not to serve
        log.warning("preview warm-up failed", exc_info=True)
    # What is loaded by now lives as long as the process: out of the collector's sight, a full
    # collection no longer walks its ~160k objects (~90 ms that landed on some request's
    # answer: the p99 of every page).
    gc.collect()
    gc.freeze()
    yield


def stylesheet(request: Request) -> Response:
    """The pages' one stylesheet, in the newsletter's colours (no inline styles needed)."""
    web: Web = request.app.state.web
    css = web.templates.get_template("site.css").render()
    return Response(css, media_type="text/css", headers={"Cache-Control": "public, max-age=3600"})


def home(request: Request) -> HTMLResponse:
    return page(request, "home.html", {"title": request.app.state.settings.BRAND_NAME})


def _error_pages(app: FastAPI) -> None:
    """Every failure a visitor can cause is a friendly page with a 4xx status, never a 500."""

    @app.exception_handler(PageError)
    async def page_error(request: Request, exc: PageError) -> Response:
        return _message(request, exc.status, exc.title, exc.message)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if _machine_route(request):
            return await http_exception_handler(request, exc)
        title = _TITLES.get(exc.status_code, "Something is not right")
        return _message(request, exc.status_code, title, "There is nothing to see at this address.")

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Response:
        if _machine_route(request):
            return await request_validation_exception_handler(request, exc)
        return _message(request, 400, "Please try again", "The form was not filled in correctly.")

    @app.exception_handler(redis.RedisError)
    async def redis_down(request: Request, exc: redis.RedisError) -> Response:
        log.error("redis unavailable on %s: %s", request.url.path, exc)
        return _message(request, 503, "Please try again", "We cannot take this right now.")

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> Response:
        log.exception("error on %s", request.url.path)
        response = _message(request, 500, "Sorry", "Something went wrong on our side.")
        response.headers.update({k: v for k, v in DEFAULTS.items() if k not in response.headers})
        return response


def _machine_route(request: Request) -> bool:
    """Routes for programs (the webhook) keep FastAPI's JSON errors."""
    return request.url.path.startswith(("/webhooks/", "/api/"))


def _message(request: Request, status: int, title: str, message: str) -> HTMLResponse:
    context = {"title": title, "message": message}
    return page(request, "message.html", context, status=status)
