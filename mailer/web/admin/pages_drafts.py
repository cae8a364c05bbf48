"""Saving drafts from the editor: autosave (JSON, as the editor types) and the Save, Send test
copies and Schedule buttons (forms). Both go through mailer.issue.store, which renders on save
and refuses a stale version, so two editors never overwrite each other unknowingly.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from mailer.accounts.principal import Principal
from mailer.core.errors import Conflict, NewsletterError, NotFound
from mailer.core.models import StoredIssue
from mailer.issue.branding import Branding
from mailer.issue.parse import IssueError
from mailer.issue.store import MAX_MARKDOWN, create_issue, replace_issue
from mailer.sending.pipeline import utcnow
from mailer.transport.factory import make_transport
from mailer.web.admin.access import Editor, check_form, check_header, not_found
from mailer.web.admin.pages_editor import TEST_COOKIE, editor_page
from mailer.web.admin.pages_schedule import schedule_form
from mailer.web.deps import web
from mailer.workspace import sends
from subscribers.db import transaction

router = APIRouter()
Text = Annotated[str, Form(max_length=MAX_MARKDOWN)]
Short = Annotated[str, Form(max_length=2000)]


class DraftBody(BaseModel):
    issue_id: int | None = None
    version: int = Field(default=0, ge=0)
    markdown: str = Field(max_length=MAX_MARKDOWN)


def save(
    request: Request, who: Principal, issue_id: int | None, version: int, markdown: str
) -> tuple[int, int]:
    """(issue id, new version); IssueError, Conflict or NotFound say why nothing was saved."""
    branding = Branding.from_settings(web(request).settings)
    with transaction(web(request).engine) as session:
        if issue_id is None:
            row: StoredIssue = create_issue(session, who, markdown, branding)
        else:
            row = replace_issue(session, who, issue_id, markdown, branding, version)
        return row.id, row.version


@router.post("/admin/issues/autosave")
async def autosave(request: Request, body: DraftBody, who: Editor) -> JSONResponse:
    check_header(request)
    try:
        issue_id, version = await run_in_threadpool(
            save, request, who, body.issue_id, body.version, body.markdown
        )
    except Conflict as exc:
        message = f"{exc}: someone else saved this issue since you opened it; reload to see it"
        return JSONResponse({"detail": message}, status_code=409)
    except NotFound as exc:
        return JSONResponse({"detail": str(exc)}, status_code=404)
    except (IssueError, NewsletterError) as exc:
        return JSONResponse({"detail": f"not saved: {exc}"}, status_code=422)
    return JSONResponse(
        {"issue_id": issue_id, "version": version, "url": f"/admin/issues/{issue_id}"}
    )


@router.post("/admin/issues/save", response_class=HTMLResponse)
async def save_form(
    request: Request,
    who: Editor,
    markdown: Text = "",
    issue_id: Short = "",
    version: Short = "0",
    action: Short = "save",
    test_to: Short = "",
    csrf_token: Short = "",
) -> Response:
    check_form(request, csrf_token)
    known = int(issue_id) if issue_id.isdigit() and len(issue_id) < 12 else None
    seen = int(version) if version.isdigit() and len(version) < 12 else 0
    kept: dict[str, Any] = {"issue_id": known, "version": seen, "test_to": test_to}
    try:
        saved_id, saved_version = await run_in_threadpool(save, request, who, known, seen, markdown)
    except NotFound as exc:
        raise not_found(f"issue {issue_id}") from exc
    except Conflict as exc:
        error = f"{exc}: someone else saved this issue since you opened it. Copy your text, reload."
        return editor_page(request, who, markdown, 409, errors={"markdown": error}, **kept)
    except (IssueError, NewsletterError) as exc:
        return editor_page(request, who, markdown, 400, errors={"markdown": str(exc)}, **kept)
    kept.update(issue_id=saved_id, version=saved_version)
    if action == "test":
        return await _test(request, who, markdown, kept)
    if action == "schedule":
        return schedule_form(request, who, {"issue_id": saved_id})
    return RedirectResponse(f"/admin/issues/{saved_id}", status_code=303)


async def _test(request: Request, who: Principal, markdown: str, kept: dict[str, Any]) -> Response:
    try:
        addresses = split_addresses(kept["test_to"])
        sent = await run_in_threadpool(_send, request, who, kept["issue_id"], addresses)
    except NewsletterError as exc:
        return editor_page(request, who, markdown, 400, errors={"test_to": str(exc)}, **kept)
    notice = f"Saved, and a test copy sent to {', '.join(sent)}."
    response = editor_page(request, who, markdown, notice=notice, **kept)
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


def _send(request: Request, who: Principal, issue_id: int, addresses: list[str]) -> list[str]:
    app = web(request)
    transport = make_transport(app.settings)
    copies = sends.test_copies(
        app.engine, app.settings, transport, who, issue_id, addresses, utcnow()
    )
    return [address for address, _send_id, _message_id in copies]


def split_addresses(text: str) -> list[str]:
    """Addresses as typed: separated by commas, semicolons, spaces or new lines."""
    found = [part for part in re.split(r"[\s,;]+", text.strip()) if part]
    if not found:
        raise NewsletterError("to: give at least one address")
    return list(dict.fromkeys(found))
