"""`newsletter preview ISSUE.md`: the editor's preview of a file on their own disk.

Listens on 127.0.0.1 only and needs no sign-in: it reads one file and changes nothing. The page
polls `/mtime` and refreshes the frames, text and warnings when the file is saved.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.templating import Jinja2Templates

from mailer.core.settings import Settings
from mailer.issue.branding import Branding
from mailer.issue.preview import Preview, Reader, preview
from mailer.web.assets import asset_response, asset_url
from mailer.web.headers import SecurityHeaders
from mailer.web.preview_frames import WORKSPACE_CSP, frame_response, summary_response

ADMIN_TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "admin"


def workspace_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(ADMIN_TEMPLATES))
    templates.env.globals["asset"] = asset_url
    return templates


class IssueFile:
    """The watched file: its modification time and its preview, read afresh when it changes."""

    def __init__(self, path: Path, settings: Settings) -> None:
        self.path = path
        self.branding = Branding.from_settings(settings)
        self.reader = Reader(base_url=settings.PUBLIC_BASE_URL)

    def mtime(self) -> int:
        try:
            return self.path.stat().st_mtime_ns
        except OSError:
            return 0

    def preview(self) -> Preview:
        try:
            text = self.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            text = f"cannot read {self.path}: {exc}"  # shown as the parse error of line 1
        return preview(text, self.branding, self.reader, source=str(self.path))


def create_preview_app(path: Path, settings: Settings) -> FastAPI:
    app = FastAPI(title="newsletter preview", docs_url=None, redoc_url=None, openapi_url=None)
    issue = IssueFile(path, settings)
    templates = workspace_templates()
    app.add_middleware(SecurityHeaders)

    @app.get("/", response_class=HTMLResponse)
    def home(request: Request) -> Response:
        context = {"title": f"Preview of {path.name}", "file": str(path), "prefix": ""}
        response = templates.TemplateResponse(request, "preview.html", context)
        response.headers["Content-Security-Policy"] = WORKSPACE_CSP
        return response

    @app.get("/mtime")
    def mtime() -> JSONResponse:
        return JSONResponse({"mtime": issue.mtime()}, headers={"Cache-Control": "no-store"})

    @app.get("/state")
    async def state() -> JSONResponse:
        stamp = issue.mtime()
        return summary_response(await run_in_threadpool(issue.preview), mtime=stamp)

    @app.get("/frame/{mode}", response_class=HTMLResponse)
    async def frame(mode: str) -> HTMLResponse:
        return frame_response(await run_in_threadpool(issue.preview), mode)

    @app.get("/assets/{name}")
    def assets(name: str) -> Response:
        return asset_response(name)

    return app
