"""The /api/v1 sub-application: its routers, JSON errors, the body cap and the OpenAPI doc."""

from __future__ import annotations

from fastapi import FastAPI

from mailer.web.api import errors, issues, people, sends
from mailer.web.api.body_limit import BodyLimit
from mailer.web.count_cache import CountCache
from mailer.web.deps import Web

PREFIX = "/api/v1"


def create_api(web: Web) -> FastAPI:
    api = FastAPI(
        title="newsletter API",
        version="1",
        description="Lists, subscribers, segments, issues and sends. Bearer token required.",
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
        servers=[{"url": PREFIX}],
    )
    api.state.web = web
    api.state.settings = web.settings
    settings = web.settings
    api.state.counts = CountCache(
        settings.SEGMENT_COUNT_CACHE_SECONDS, stale=settings.SEGMENT_COUNT_STALE_SECONDS
    )
    for module in (people, issues, sends):
        api.include_router(module.router)
    errors.install(api)
    api.add_middleware(BodyLimit, max_bytes=web.settings.API_MAX_BODY_BYTES)
    return api
