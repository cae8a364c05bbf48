"""Mounts the workspace pages and their assets (sign-in is mailer.web.admin.signin)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import Response

from mailer.web.admin import (
    pages_drafts,
    pages_editor,
    pages_home,
    pages_lists,
    pages_owner,
    pages_people,
    pages_reports,
    pages_schedule,
    pages_sends,
    pages_transfer,
)
from mailer.web.assets import asset_response


def install(app: FastAPI) -> None:
    for router in (
        pages_home.router,
        pages_sends.router,
        pages_drafts.router,
        pages_editor.router,
        pages_schedule.router,
        pages_people.router,
        pages_lists.router,
        pages_owner.router,
        pages_reports.router,
        pages_transfer.router,
    ):
        app.include_router(router)
    app.add_api_route("/admin/assets/{name}", _asset, methods=["GET"], include_in_schema=False)


def _asset(name: str) -> Response:
    return asset_response(name)
