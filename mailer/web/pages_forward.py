"""GET/POST /f/{token}: forward an issue to friends, safely.

Never an open relay: the friend gets the issue of the token's send and nothing else, at most 5
friends per submit, 20 per issue and 100 a day per reader (counted from `forwards` under a
lock on the reader), one copy per friend per issue, a per-IP limit, a honeypot and CSRF.
Friends' addresses go into the outbox until the mail has gone; opted-out friends are skipped
without the page saying so, and the mail goes after the answer.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from starlette.background import BackgroundTask

from mailer.core.models import Send
from mailer.readers import forwarding
from mailer.readers.forward_service import ForwardRequest, NotForwardable, record_forward
from mailer.readers.forwarding import ForwardError
from mailer.readers.links import Purpose, Token
from mailer.tasks import messages
from mailer.web import csrf
from mailer.web.deps import (
    ISSUE_CSP,
    PageError,
    client_ip,
    not_found,
    page,
    read_token,
    read_token_async,
    web,
)
from mailer.web.forms import read_form
from mailer.web.pages_issue import issue_fragment
from subscribers.db import transaction
from subscribers.models import Subscriber

router = APIRouter()
HONEYPOT = "website"


@router.get("/f/{token}", response_class=HTMLResponse)
def forward_page(request: Request, token: str) -> HTMLResponse:
    link = read_token(request, token, Purpose.FORWARD)
    return _form(request, token, link)


@router.post("/f/{token}", response_class=HTMLResponse)
async def forward(request: Request, token: str) -> HTMLResponse:
    link = await read_token_async(request, token, Purpose.FORWARD)
    form = await read_form(request, max_fields=20)
    csrf.check(request, f"f:{token}", form.get(csrf.FIELD))
    emails, note = str(form.get("emails") or ""), str(form.get("note") or "")
    try:
        friends = forwarding.parse_friends(emails)
        note = forwarding.clean_note(note)
        if form.get(HONEYPOT):
            # A bot filled the hidden field: it sees success, nobody is mailed.
            return _done(request, link, len(friends))
        ids = await run_in_threadpool(_forward, request, link, friends, note)
    except NotForwardable as exc:
        raise PageError(exc.status, "Not available", str(exc)) from exc
    except ForwardError as exc:
        return _form(request, token, link, error=str(exc), emails=emails, note=note, status=400)
    response = _done(request, link, len(friends))
    # The mail goes after the answer, so the answer takes as long whoever the friends are.
    response.background = BackgroundTask(messages.dispatch, web(request).engine, ids)
    return response


def _forward(request: Request, link: Token, friends: list[str], note: str) -> list[int]:
    app = web(request)
    ip = client_ip(request)
    if not app.limiter.allow(
        f"forward:{ip}", len(friends), app.settings.FORWARD_IP_LIMIT_PER_HOUR, 3600
    ):
        raise PageError(
            429, "Please slow down", "Too many forwards from your network. Try again later."
        )
    req = ForwardRequest(link.send_id, link.subscriber_id, link.key, friends, note, ip)
    with transaction(app.engine) as session:
        return record_forward(session, req, app.settings.SECRET_KEY)


def _form(
    request: Request,
    token: str,
    link: Token,
    error: str = "",
    emails: str = "",
    note: str = "",
    status: int = 200,
) -> HTMLResponse:
    with transaction(web(request).engine) as session:
        send = session.get(Send, link.send_id)
        if send is None or session.get(Subscriber, link.subscriber_id) is None:
            raise not_found("issue")
        subject, document = send.subject, send.web_html or forwarding.impersonal_html(send.html)
    form_token = csrf.issue(request, f"f:{token}")
    context: dict[str, Any] = {
        "title": f"Forward “{subject}”",
        "subject": subject,
        "issue": issue_fragment(document),
        "error": error,
        "emails": emails,
        "note": note,
        "max_note": forwarding.MAX_NOTE_CHARS,
        "max_friends": forwarding.MAX_FRIENDS_PER_SUBMIT,
        "csrf_token": form_token.value,
        "honeypot": HONEYPOT,
    }
    response = page(request, "forward.html", context, status=status, csp=ISSUE_CSP)
    csrf.remember(request, response, form_token)
    return response


def _done(request: Request, link: Token, count: int) -> HTMLResponse:
    context = {"title": "Sent", "count": count}
    return page(request, "forwarded.html", context)
