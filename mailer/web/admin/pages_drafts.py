"""Saving drafts from the editor: autosave (JSON, as the editor types) and the Save, Send test
copies and Schedule buttons (forms). Both go through mailer.issue.store.save_draft, which
renders on save, keeps Markdown that does not parse (with the reason, so nothing typed is
lost) and refuses a stale version, so two editors never overwrite each other unknowingly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from mailer.accounts.principal import Principal
from mailer.core.errors import Conflict, NewsletterError, NotFound
from mailer.issue.branding import Branding
from mailer.issue.store import MAX_MARKDOWN, save_draft
from mailer.sending.pipeline import utcnow
from mailer.transport.factory import make_transport
from mailer.web.admin.access import Editor, check_header, not_found
from mailer.web.admin.forms import DraftForm, checked, number
from mailer.web.admin.pages_editor import describe, editor_page, parse_note
from mailer.web.admin.pages_schedule import schedule_form
from mailer.web.deps import web
from mailer.workspace import sends
from subscribers.db import transaction

router = APIRouter()
STALE = "someone else saved this issue since you opened it"


class DraftBody(BaseModel):
    issue_id: int | None = None
    version: int = Field(default=0, ge=0)
    markdown: str = Field(max_length=MAX_MARKDOWN)


@dataclass(frozen=True, slots=True)
class Saved:
    issue_id: int
    version: int
    parse_error: str | None  # the Markdown was kept, but does not parse (yet)


def save(
    request: Request, who: Principal, issue_id: int | None, version: int, markdown: str
) -> Saved:
    """The draft as stored; Conflict, NotFound or NewsletterError say why nothing was saved."""
    branding = Branding.from_settings(web(request).settings)
    with transaction(web(request).engine) as session:
        row = save_draft(session, who, issue_id, markdown, branding, version)
        return Saved(row.id, row.version, row.parse_error)


@router.post("/admin/issues/autosave")
async def autosave(request: Request, body: DraftBody, who: Editor) -> JSONResponse:
    check_header(request)
    try:
        saved = await run_in_threadpool(
            save, request, who, body.issue_id, body.version, body.markdown
        )
    except Conflict as exc:
        return JSONResponse({"detail": f"{exc}: {STALE}; reload to see it"}, status_code=409)
    except NotFound as exc:
        return JSONResponse({"detail": str(exc)}, status_code=404)
    except NewsletterError as exc:
        return JSONResponse({"detail": f"not saved: {exc}"}, status_code=422)
    note = parse_note(saved.parse_error)
    return JSONResponse(
        {
            "issue_id": saved.issue_id,
            "version": saved.version,
            "url": f"/admin/issues/{saved.issue_id}",
            "error": None if note is None else {"line": note.line, "message": note.message},
        }
    )


@router.post("/admin/issues/save", response_class=HTMLResponse)
async def save_form(request: Request, who: Editor, form: Annotated[DraftForm, Form()]) -> Response:
    checked(request, form)
    kept: dict[str, Any] = {
        "issue_id": number(form.issue_id),
        "version": number(form.version) or 0,
        "test_to": form.test_to,
    }
    markdown = form.markdown
    try:
        saved = await run_in_threadpool(
            save, request, who, kept["issue_id"], kept["version"], markdown
        )
    except NotFound as exc:
        raise not_found(f"issue {form.issue_id}") from exc
    except Conflict as exc:
        error = f"{exc}: {STALE}. Copy your text, reload."
        return editor_page(request, who, markdown, 409, errors={"markdown": error}, **kept)
    except NewsletterError as exc:
        return editor_page(request, who, markdown, 400, errors={"markdown": str(exc)}, **kept)
    kept.update(issue_id=saved.issue_id, version=saved.version)
    if saved.parse_error is not None and form.action in ("test", "schedule"):
        refusal = f"Saved, but it cannot be {'test-sent' if form.action == 'test' else 'scheduled'}"
        errors = {"markdown": f"{refusal} until it parses: {describe(saved.parse_error)}"}
        return editor_page(request, who, markdown, 400, errors=errors, **kept)
    if form.action == "test":
        return await _test(request, who, markdown, kept)
    if form.action == "schedule":
        return schedule_form(request, who, {"issue_id": saved.issue_id})
    return RedirectResponse(f"/admin/issues/{saved.issue_id}", status_code=303)


async def _test(request: Request, who: Principal, markdown: str, kept: dict[str, Any]) -> Response:
    try:
        addresses = split_addresses(kept["test_to"])
        sent = await run_in_threadpool(_send, request, who, kept["issue_id"], addresses)
    except NewsletterError as exc:
        return editor_page(request, who, markdown, 400, errors={"test_to": str(exc)}, **kept)
    notice = f"Saved, and a test copy sent to {', '.join(sent)}."
    return editor_page(request, who, markdown, notice=notice, **kept)


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
