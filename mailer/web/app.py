"""Builds the FastAPI app from settings; each page family is a router module of its own."""

from __future__ import annotations

from fastapi import FastAPI

from mailer.settings import Settings, load_settings
from mailer.web import reports, webhooks


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()
    app = FastAPI(title="newsletter", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.include_router(webhooks.router)
    app.include_router(reports.router)
    return app
