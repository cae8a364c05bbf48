"""The issue editor: Markdown on one side, the live preview on the other; the issues list.

The script posts the text to /admin/preview as the editor types (debounced) and re-posts it
into the three frames; it autosaves through pages_drafts. Without the script the page still
works as plain forms (Save, Send test copies, Schedule).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import exists, select

from mailer.accounts.principal import Principal
from mailer.accounts.users import remembered_test_to
from mailer.core.errors import NotFound
from mailer.core.models import Send, StoredIssue
from mailer.issue.branding import Branding
from mailer.issue.preview import Note, Preview, Reader, preview
from mailer.issue.store import MAX_MARKDOWN, get_issue
from mailer.web.admin.access import Editor, Viewer, check_form, check_header, not_found, render
from mailer.web.deps import web
from mailer.web.preview_frames import frame_response, summary_response
from subscribers.db import transaction
from subscribers.models import Subscriber

router = APIRouter()
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
    view_as: str = Field(default="", max_length=320)


def editor_preview(request: Request, markdown: str, view_as: str = "") -> Preview:
    """The preview as a sample reader sees it, or as the subscriber `view_as` (their name,
    links shaped like theirs); an unknown address falls back to the sample reader."""
    settings = web(request).settings
    reader = Reader(base_url=settings.PUBLIC_BASE_URL)
    if view_as.strip():
        with transaction(web(request).engine) as session:
            found = session.execute(
                select(Subscriber.id, Subscriber.name).where(
                    Subscriber.email_norm == view_as.strip().lower()
                )
            ).first()
        if found is not None:
            reader = Reader(found.name, settings.PUBLIC_BASE_URL, f"preview-{found.id}")
    return preview(markdown, Branding.from_settings(settings), reader)


@router.get("/admin/issues", response_class=HTMLResponse)
def issues(request: Request, who: Viewer) -> HTMLResponse:
    sent = exists().where(Send.issue_id == StoredIssue.id, Send.test_to.is_(None))
    with transaction(web(request).engine) as session:
        rows = session.execute(
            select(
                StoredIssue.id,
                StoredIssue.subject,
                StoredIssue.updated_at,
                StoredIssue.updated_by,
                StoredIssue.version,
                sent.label("sent"),
                StoredIssue.parse_error.is_not(None).label("broken"),
            )
            .order_by(StoredIssue.id.desc())
            .limit(200)
        ).all()
    return render(request, "issues.html", who, {"title": "Issues", "issues": rows})


@router.get("/admin/issues/new", response_class=HTMLResponse)
def new_issue(request: Request, who: Editor, start: str = "") -> HTMLResponse:
    """A blank issue, or a copy of an earlier one (`?start=ID`, or `?start=last`)."""
    markdown = STARTER
    if start:
        with transaction(web(request).engine) as session:
            source_id = _last_issue(session) if start == "last" else _int(start)
            try:
                markdown = get_issue(session, source_id or 0).markdown
            except NotFound as exc:
                raise not_found(f"issue {start}") from exc
    return editor_page(request, who, markdown)


def _last_issue(session: Any) -> int | None:
    found: int | None = session.scalar(select(StoredIssue.id).order_by(StoredIssue.id.desc()))
    return found


def _int(text: str) -> int | None:
    return int(text) if text.isdigit() and len(text) < 12 else None


@router.get("/admin/issues/{issue_id}", response_class=HTMLResponse)
def edit_issue(request: Request, issue_id: int, who: Editor) -> HTMLResponse:
    with transaction(web(request).engine) as session:
        try:
            row = get_issue(session, issue_id)
        except NotFound as exc:
            raise not_found(f"issue {issue_id}") from exc
        markdown, version, problem = row.markdown, row.version, row.parse_error
    errors = {}
    if problem is not None:  # kept as typed; it cannot go out until it parses
        errors["markdown"] = f"Saved, but it does not parse: {describe(problem)}"
    return editor_page(request, who, markdown, issue_id=issue_id, version=version, errors=errors)


def parse_note(problem: str | None) -> Note | None:
    """A stored parse error as the editor shows it: the line it is about, and what is wrong."""
    return None if problem is None else Note.parse(problem, "markdown")


def describe(problem: str) -> str:
    note = Note.parse(problem, "markdown")
    return (f"line {note.line}: " if note.line else "") + note.message


def editor_page(
    request: Request, who: Principal, markdown: str, status: int = 200, **context: Any
) -> HTMLResponse:
    """The editor; the test addresses are the ones this user last used, on whatever browser."""
    if "test_to" not in context:
        with transaction(web(request).engine) as session:
            context["test_to"] = remembered_test_to(session, who)
    values = {
        "title": "Write an issue",
        "markdown": markdown,
        "issue_id": context.pop("issue_id", None),
        "version": context.pop("version", 0),
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
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            problem = f"{file.filename}: not UTF-8 text"
        else:
            return editor_page(request, who, text, notice=f"Opened {file.filename}.")
    return editor_page(request, who, STARTER, 400, errors={"file": problem})


@router.post("/admin/preview")
async def preview_json(request: Request, body: PreviewBody, who: Editor) -> JSONResponse:
    check_header(request)
    result = await run_in_threadpool(editor_preview, request, body.markdown, body.view_as)
    return summary_response(result)


@router.post("/admin/preview/frame/{mode}", response_class=HTMLResponse)
async def preview_frame(
    request: Request,
    mode: str,
    who: Editor,
    markdown: Annotated[str, Form(max_length=MAX_MARKDOWN)] = "",
    view_as: Annotated[str, Form(max_length=320)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> HTMLResponse:
    check_form(request, csrf_token)
    result = await run_in_threadpool(editor_preview, request, markdown, view_as)
    return frame_response(result, mode)
