"""The issue editor: Markdown on one side, the live preview on the other; upload; test copies.

The script posts the text to /admin/preview as the editor types (debounced) and re-posts it
into the three frames; without the script the page still works as plain forms.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from mailer.accounts.principal import Principal
from mailer.core.errors import NewsletterError
from mailer.issue.branding import Branding
from mailer.issue.parse import IssueError
from mailer.issue.preview import Preview, Reader, preview
from mailer.sending.pipeline import utcnow
from mailer.sending.test_copies import frozen_from_markdown, parse_addresses, send_test_copies
from mailer.transport.factory import make_transport
from mailer.web.admin.access import Editor, check_form, check_header, render
from mailer.web.deps import web
from mailer.web.preview_frames import frame_response, summary_response

router = APIRouter()
MAX_MARKDOWN = 512 * 1024
TEST_COOKIE = "nl_test_to"
STARTER = """---
subject: This week
preheader: One line that shows next to the subject in the inbox
---
Hello -subscriber_name-, here is what happened this week.

## The main story

Write it here. [A link](https://example.com) works as in any Markdown.
"""


class PreviewBody(BaseModel):
    markdown: str = Field(max_length=MAX_MARKDOWN)


def editor_preview(request: Request, markdown: str) -> Preview:
    settings = web(request).settings
    reader = Reader(base_url=settings.PUBLIC_BASE_URL)
    return preview(markdown, Branding.from_settings(settings), reader)


@router.get("/admin/issues/new", response_class=HTMLResponse)
def new_issue(request: Request, who: Editor) -> HTMLResponse:
    return _editor(request, who, STARTER)


def _editor(
    request: Request, who: Principal, markdown: str, status: int = 200, **context: Any
) -> HTMLResponse:
    values = {
        "title": "Write an issue",
        "markdown": markdown,
        "test_to": context.pop("test_to", request.cookies.get(TEST_COOKIE, "")),
        "errors": context.pop("errors", {}),
        **context,
    }
    return render(request, "editor.html", who, values, status=status)


@router.post("/admin/issues/upload", response_class=HTMLResponse)
async def upload(
    request: Request, who: Editor, file: UploadFile, csrf_token: Annotated[str, Form()] = ""
) -> HTMLResponse:
    check_form(request, csrf_token)
    body = await file.read(MAX_MARKDOWN + 1)
    problem = None
    if len(body) > MAX_MARKDOWN:
        problem = f"{file.filename}: larger than {MAX_MARKDOWN // 1024} KB"
    else:
        try:
            return _editor(request, who, body.decode("utf-8"), notice=f"Opened {file.filename}.")
        except UnicodeDecodeError:
            problem = f"{file.filename}: not UTF-8 text"
    return _editor(request, who, STARTER, 400, errors={"file": problem})


@router.post("/admin/preview")
async def preview_json(request: Request, body: PreviewBody, who: Editor) -> JSONResponse:
    check_header(request)
    return summary_response(await run_in_threadpool(editor_preview, request, body.markdown))


@router.post("/admin/preview/frame/{mode}", response_class=HTMLResponse)
async def preview_frame(
    request: Request,
    mode: str,
    who: Editor,
    markdown: Annotated[str, Form(max_length=MAX_MARKDOWN)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> HTMLResponse:
    check_form(request, csrf_token)
    return frame_response(await run_in_threadpool(editor_preview, request, markdown), mode)


@router.post("/admin/issues/test", response_class=HTMLResponse)
async def test_send(
    request: Request,
    who: Editor,
    markdown: Annotated[str, Form(max_length=MAX_MARKDOWN)] = "",
    test_to: Annotated[str, Form(max_length=2000)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_form(request, csrf_token)
    try:
        addresses = parse_addresses(test_to)
    except NewsletterError as exc:
        return _editor(request, who, markdown, 400, test_to=test_to, errors={"test_to": str(exc)})
    try:
        copies = await run_in_threadpool(_send, request, markdown, addresses)
    except IssueError as exc:
        return _editor(request, who, markdown, 400, test_to=test_to, errors={"markdown": str(exc)})
    except NewsletterError as exc:
        return _editor(request, who, markdown, 502, test_to=test_to, errors={"test_to": str(exc)})
    sent = ", ".join(copy.to for copy in copies)
    response = _editor(request, who, markdown, test_to=test_to, notice=f"Test copy sent to {sent}.")
    response.set_cookie(
        TEST_COOKIE,
        " ".join(addresses),
        max_age=365 * 86400,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/admin",
    )
    return response


def _send(request: Request, markdown: str, addresses: list[str]) -> list[Any]:
    app = web(request)
    frozen = frozen_from_markdown(markdown, app.settings)
    transport = make_transport(app.settings)
    return send_test_copies(app.engine, app.settings, transport, frozen, addresses, utcnow())
