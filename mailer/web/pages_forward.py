"""GET/POST /f/{token}: forward an issue to friends, safely.

Never an open relay: the friend gets the issue of the token's send and nothing else, at most 5
friends per submit, 20 per issue and 100 a day per reader (counted from `forwards`), a per-IP
limit, a honeypot and CSRF. Friends' addresses go into the delivery task and nowhere else;
opted-out addresses are skipped there without the page saying so.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from celery.exceptions import Retry
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailer.core.models import Forward, Send
from mailer.readers import forwarding
from mailer.readers.forwarding import ForwardError
from mailer.readers.links import Purpose, Token
from mailer.tasks.messages import deliver_forward
from mailer.transport.base import TransportError
from mailer.web import csrf
from mailer.web.forms import read_form
from mailer.web.deps import ISSUE_CSP, PageError, client_ip, not_found, page, read_token, web
from mailer.web.pages_issue import issue_fragment
from subscribers.db import transaction
from subscribers.models import Subscriber, utcnow

router = APIRouter()
HONEYPOT = "website"


@router.get("/f/{token}", response_class=HTMLResponse)
def forward_page(request: Request, token: str) -> HTMLResponse:
    link = read_token(request, token, Purpose.FORWARD)
    return _form(request, token, link)


@router.post("/f/{token}", response_class=HTMLResponse)
async def forward(request: Request, token: str) -> HTMLResponse:
    link = read_token(request, token, Purpose.FORWARD)
    form = await read_form(request, max_fields=20)
    csrf.check(request, f"f:{token}", form.get(csrf.FIELD))
    emails, note = str(form.get("emails") or ""), str(form.get("note") or "")
    try:
        friends = forwarding.parse_friends(emails)
        note = forwarding.clean_note(note)
        if form.get(HONEYPOT):
            # A bot filled the hidden field: it sees success, nobody is mailed.
            return _done(request, link, len(friends))
        await run_in_threadpool(_forward, request, link, friends, note)
    except ForwardError as exc:
        return _form(request, token, link, error=str(exc), emails=emails, note=note, status=400)
    return _done(request, link, len(friends))


def _forward(request: Request, link: Token, friends: list[str], note: str) -> None:
    app = web(request)
    with transaction(app.engine) as session:
        if session.get(Subscriber, link.subscriber_id) is None or not _sent(session, link.send_id):
            raise not_found("issue")
        forwarding.check_quota(len(friends), *_counts(session, link))
        ip = client_ip(request)
        if not app.limiter.allow(
            f"forward:{ip}", len(friends), app.settings.FORWARD_IP_LIMIT_PER_HOUR, 3600
        ):
            raise PageError(
                429, "Please slow down", "Too many forwards from your network. Try again later."
            )
        session.add(
            Forward(
                send_id=link.send_id,
                subscriber_id=link.subscriber_id,
                friend_count=len(friends),
                ip=ip,
            )
        )
    try:
        for friend in friends:
            deliver_forward.delay(link.send_id, link.subscriber_id, friend, note)
    except (TransportError, Retry) as exc:
        # Only without a task queue (eager tasks) does delivery fail inside the request.
        raise PageError(
            503, "Not sent yet", "We could not send the issue just now. Please try again later."
        ) from exc


def _sent(session: Session, send_id: int) -> bool:
    return session.get(Send, send_id) is not None


def _counts(session: Session, link: Token) -> tuple[int, int]:
    """Friends this reader already sent this issue to, and sent anything to in 24 h."""
    mine = Forward.subscriber_id == link.subscriber_id
    total = func.coalesce(func.sum(Forward.friend_count), 0)
    for_issue = session.scalar(select(total).where(mine, Forward.send_id == link.send_id))
    since = utcnow() - timedelta(hours=24)
    today = session.scalar(select(total).where(mine, Forward.created_at >= since))
    return int(for_issue or 0), int(today or 0)


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
