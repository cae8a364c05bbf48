"""Mounts the workspace on the app: its page routers, its assets, and the sign-in redirect."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from mailer.web.admin import pages_editor, pages_home, pages_schedule, pages_sends
from mailer.web.admin.auth import SignInRequired
from mailer.web.assets import asset_response


def install(app: FastAPI) -> None:
    for router in (
        pages_home.router,
        pages_sends.router,
        pages_editor.router,
        pages_schedule.router,
    ):
        app.include_router(router)
    app.add_api_route("/admin/assets/{name}", _asset, methods=["GET"], include_in_schema=False)

    @app.exception_handler(SignInRequired)
    async def sign_in(request: Request, exc: SignInRequired) -> Response:
        target = quote(request.url.path, safe="/")
        return RedirectResponse(f"/admin/login?next={target}", status_code=303)


def _asset(name: str) -> Response:
    return asset_response(name)
