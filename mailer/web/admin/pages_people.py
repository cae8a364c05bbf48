"""Subscribers in the workspace: search and filter (list, status, segment), a person's page,
edit, unsubscribe, erase.

Every read and write goes through the same services as the API (subscribers.browse,
mailer.workspace.people), so the pages, the API and the CLI cannot drift apart.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.accounts.principal import Principal
from mailer.core.errors import NewsletterError, NotFound
from mailer.core.models import Event, Send, SendRecipient
from mailer.web.admin.access import Editor, Viewer, not_found, render
from mailer.web.admin.forms import CsrfForm, checked
from mailer.web.deps import web
from mailer.workspace import people
from subscribers.browse import page_subscribers, profile
from subscribers.db import transaction
from subscribers.editing import Changes
from subscribers.errors import SubscriberError
from subscribers.models import MailingList, Subscriber
from subscribers.segments import SegmentError
from subscribers.store import normalize_email

router = APIRouter()
PAGE = 50
FILTERS = ("q", "list", "status", "segment", "cursor")
LONGEST = {"segment": 2000}  # a segment expression may be long; the other filters are short
ACTIONS = ("edit", "unsubscribe", "erase")


@router.get("/admin/subscribers", response_class=HTMLResponse)
async def search(request: Request, who: Viewer) -> HTMLResponse:
    wanted = {k: request.query_params.get(k, "")[: LONGEST.get(k, 200)] for k in FILTERS}
    return await run_in_threadpool(_search, request, who, wanted)


def _search(request: Request, who: Principal, wanted: dict[str, str]) -> HTMLResponse:
    errors: dict[str, str] = {}
    column = None
    with transaction(web(request).engine) as session:
        lists = list(session.scalars(select(MailingList.name).order_by(MailingList.name)))
        try:
            found = page_subscribers(
                session,
                wanted["list"] or None,
                wanted["status"] or None,
                wanted["q"] or None,
                wanted["cursor"] or None,
                PAGE,
                segment=wanted["segment"] or None,
            )
        except SubscriberError as exc:
            errors[_field_of(str(exc))] = str(exc)
            column = exc.column if isinstance(exc, SegmentError) else None
            found = None
    context = {
        "title": "Subscribers",
        "f": wanted,
        "page": found,
        "lists": lists,
        "errors": errors,
        "segment_column": column,
        "statuses": ("active", "pending", "unsubscribed", "bounced", "complained"),
    }
    return render(request, "subscribers.html", who, context, status=400 if errors else 200)


def _field_of(message: str) -> str:
    """Which filter an error is about, to show it next to that field."""
    head = message.partition(":")[0]
    if head in FILTERS:
        return head
    return "status" if "status" in message else "q"


@router.get("/admin/subscribers/{email}", response_class=HTMLResponse)
async def person(request: Request, email: str, who: Viewer) -> HTMLResponse:
    return await run_in_threadpool(_person, request, who, email, {}, None, 200)


def _person(
    request: Request,
    who: Principal,
    email: str,
    errors: dict[str, str],
    notice: str | None,
    status: int,
) -> HTMLResponse:
    with transaction(web(request).engine) as session:
        found = profile(session, email)
        if found is None:
            raise not_found(f"subscriber {email[:100]}")
        extra = _history(session, email)
    context = {"title": found.email, "person": found, "errors": errors, "notice": notice, **extra}
    return render(request, "person.html", who, context, status=status)


def _history(session: Session, email: str) -> dict[str, Any]:
    row = session.scalars(
        select(Subscriber).where(Subscriber.email_norm == normalize_email(email))
    ).one()
    sends = session.execute(
        select(Send.id, Send.subject, Send.started_at, SendRecipient.state)
        .join(SendRecipient, SendRecipient.send_id == Send.id)
        .where(SendRecipient.subscriber_id == row.id)
        .order_by(Send.id.desc())
        .limit(20)
    ).all()
    events = session.execute(
        select(Event.event, Event.occurred_at, Event.send_id, Event.url, Event.reason)
        .where(Event.subscriber_id == row.id)
        .order_by(Event.occurred_at.desc())
        .limit(50)
    ).all()
    consent = {"source": row.consent_source, "at": row.consent_at}
    return {"sends": sends, "events": events, "consent": consent}


class PersonForm(CsrfForm):
    name: str = Field(default="", max_length=2000)
    tags: str = Field(default="", max_length=2000)
    confirm: str = Field(default="", max_length=2000)


@router.post("/admin/subscribers/{email}/{action}")
async def change(
    request: Request, email: str, action: str, who: Editor, form: Annotated[PersonForm, Form()]
) -> Response:
    checked(request, form)
    name, tags, confirm = form.name, form.tags, form.confirm
    if action not in ACTIONS:
        raise not_found("such action")
    try:
        notice = await run_in_threadpool(_change, request, who, email, action, name, tags, confirm)
    except NotFound as exc:
        raise not_found(f"subscriber {email[:100]}") from exc
    except (NewsletterError, SubscriberError) as exc:
        field = {"erase": "confirm", "edit": "name"}.get(action, "name")
        return await run_in_threadpool(_person, request, who, email, {field: str(exc)}, None, 400)
    if action == "erase":
        return RedirectResponse("/admin/subscribers?erased=1", status_code=303)
    return await run_in_threadpool(_person, request, who, email, {}, notice, 200)


def _change(
    request: Request, who: Principal, email: str, action: str, name: str, tags: str, confirm: str
) -> str:
    with transaction(web(request).engine) as session:
        if action == "edit":
            tag_list = [t for t in (part.strip() for part in tags.split(",")) if t]
            people.change(session, who, email, Changes(name=name.strip(), tags=tag_list))
            return "Saved."
        if action == "unsubscribe":
            people.change(session, who, email, Changes(status="unsubscribed"))
            return "Unsubscribed from every list."
        if action == "erase":
            if normalize_email(confirm) != normalize_email(email):
                raise NewsletterError("type the address to confirm: erasing cannot be undone")
            people.erase(session, who, email)
            return "Erased."
    raise NewsletterError(f"no action {action!r}")
