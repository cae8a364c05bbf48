"""GET /v/{token} (the issue as one subscriber got it) and the public archive of sent issues.

The web version fills the frozen HTML with that reader's own links; the archive shows the
issue without anyone's personal links, and lists only issues really sent (not test copies).
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import func, select

from mailer.core.models import Send, SendState
from mailer.issue import placeholders
from mailer.readers.forwarding import impersonal_html
from mailer.readers.links import Purpose
from mailer.web.deps import (
    ISSUE_CSP,
    TEST_COPY_READER,
    not_found,
    page,
    read_token,
    sibling,
    web,
)
from subscribers.db import transaction
from subscribers.models import Subscriber

router = APIRouter()

_PUBLISHED = (SendState.SENDING, SendState.DONE)
_STYLE = re.compile(r"<style\b[^>]*>.*?</style>", re.IGNORECASE | re.DOTALL)
_BODY = re.compile(r"<body\b[^>]*>(.*)</body>", re.IGNORECASE | re.DOTALL)


@router.get("/v/{token}", response_class=HTMLResponse)
def web_version(request: Request, token: str) -> HTMLResponse:
    link = read_token(request, token, Purpose.VIEW)
    app = web(request)
    with transaction(app.engine) as session:
        send = session.get(Send, link.send_id)
        subscriber = session.get(Subscriber, link.subscriber_id)
        if send is not None and send.test_to is not None and link.subscriber_id == TEST_COPY_READER:
            return _issue_response(impersonal_html(send.web_html or send.html, app.url(link)))
        if send is None or subscriber is None:
            raise not_found("issue")
        document, name = send.html, subscriber.name
    values = {
        placeholders.UNSUBSCRIBE_URL: app.url(sibling(link, Purpose.UNSUBSCRIBE)),
        placeholders.PREFERENCES_URL: app.url(sibling(link, Purpose.PREFERENCES)),
        placeholders.FORWARD_URL: app.url(sibling(link, Purpose.FORWARD)),
        placeholders.VIEW_URL: app.url(link),
        placeholders.NAME: name,
    }
    response = _issue_response(placeholders.fill(document, values))
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@router.get("/archive", response_class=HTMLResponse)
def archive(request: Request) -> HTMLResponse:
    with transaction(web(request).engine) as session:
        rows = session.execute(
            select(Send.slug, Send.subject, Send.issue_date, Send.preheader, Send.id)
            .where(*_public())
            .order_by(func.coalesce(Send.started_at, Send.created_at).desc(), Send.id.desc())
            .limit(500)
        ).all()
    issues: list[dict[str, Any]] = []
    seen: set[str] = set()
    for row in rows:
        if row.slug not in seen:
            seen.add(row.slug)
            issues.append({"slug": row.slug, "subject": row.subject, "date": row.issue_date})
    return page(request, "archive.html", {"title": "Archive", "issues": issues})


@router.get("/archive/{slug}", response_class=HTMLResponse)
def archived_issue(request: Request, slug: str) -> HTMLResponse:
    app = web(request)
    with transaction(app.engine) as session:
        send = session.scalars(
            select(Send).where(Send.slug == slug, *_public()).order_by(Send.id.desc()).limit(1)
        ).first()
        if send is None:
            raise not_found("issue")
        document = send.web_html or send.html
    view_url = f"{app.settings.PUBLIC_BASE_URL}/archive/{slug}"
    response = _issue_response(impersonal_html(document, view_url))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


def _public() -> tuple[Any, ...]:
    return (Send.state.in_([str(s) for s in _PUBLISHED]), Send.test_to.is_(None), Send.archived)


def _issue_response(document: str) -> HTMLResponse:
    response = HTMLResponse(document)
    response.headers["Content-Security-Policy"] = ISSUE_CSP
    return response


def issue_fragment(document: str) -> str:
    """The issue's body, to show inside one of our pages.

    Its <style> blocks are left out so they cannot restyle the page around it; the email's
    inline styles carry its look, and MJML's mobile layout is the one shown.
    """
    body = _BODY.search(document)
    return _STYLE.sub("", body.group(1) if body else document)
