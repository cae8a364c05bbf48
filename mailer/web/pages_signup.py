"""GET/POST /subscribe and GET/POST /confirm/{token}: sign-up with double opt-in.

Every well-formed sign-up gets the same answer, whether the address is new, pending, already
subscribed or suppressed, so the page reveals nothing about who is on the list. A `ref` token
from a forwarded issue credits the reader who forwarded it once the friend confirms.
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask

from mailer.readers import outbox, signup
from mailer.readers.links import BadToken, Purpose, Token
from mailer.tasks import messages
from mailer.web import csrf
from mailer.web.deps import (
    CONFIRM_MAX_AGE,
    PageError,
    client_ip,
    page,
    read_token,
    read_token_async,
    web,
)
from mailer.web.forms import read_form
from subscribers.db import transaction
from subscribers.models import MailingList, utcnow
from subscribers.store import find_list

router = APIRouter()
HONEYPOT = "website"


@router.get("/subscribe", response_class=HTMLResponse)
def subscribe_page(
    request: Request, ref: str = "", list_name: str = Query("", alias="list")
) -> HTMLResponse:
    return _form(request, ref=ref, list_name=list_name)


@router.post("/subscribe", response_class=HTMLResponse)
async def subscribe(request: Request) -> HTMLResponse:
    form = await read_form(request, max_fields=20)
    csrf.check(request, "subscribe", form.get(csrf.FIELD))
    fields = {key: str(form.get(key) or "").strip() for key in ("email", "name", "list", "ref")}
    try:
        email = validate_email(fields["email"], check_deliverability=False).normalized
    except EmailNotValidError as exc:
        error = f"Please enter a valid email address ({exc})."
        return _form(request, **_refill(fields), error=error, status=400)
    if len(fields["name"]) > 200:
        return _form(request, **_refill(fields), error="The name is too long.", status=400)
    response = page(request, "subscribe_sent.html", {"title": "Check your inbox"})
    if not form.get(HONEYPOT):
        ids = await run_in_threadpool(_request, request, email, fields)
        # The confirmation goes after the answer: a known address answers as fast as a new one.
        response.background = BackgroundTask(messages.dispatch, web(request).engine, ids)
    return response


def _request(request: Request, email: str, fields: dict[str, str]) -> list[int]:
    app = web(request)
    ip = client_ip(request)
    if not app.limiter.allow(f"signup:{ip}", 1, app.settings.SIGNUP_IP_LIMIT_PER_HOUR, 3600):
        raise PageError(429, "Please slow down", "Too many sign-ups from your network.")
    referral = _referral(request, fields["ref"])
    with transaction(app.engine) as session:
        mailing_list = _chosen_list(session, app.settings.DEFAULT_LIST, fields["list"], referral)
        req = signup.SignupRequest(email, fields["name"], mailing_list.id, ip, referral)
        to_mail = signup.request_signup(
            session, req, utcnow(), app.settings.SIGNUP_COOLDOWN_SECONDS
        )
        if to_mail is None:
            return []
        return [outbox.add_confirmation(session, to_mail, mailing_list.id).id]


def _chosen_list(
    session: Session, preferred: str | None, name: str, referral: Token | None
) -> MailingList:
    if name:
        found = find_list(session, name)
        if found is None or not found.public:  # a private list is joined by invitation only
            raise PageError(404, "Unknown newsletter", f"There is no newsletter called “{name}”.")
        return found
    if referral is not None and referral.list_id:
        found = session.get(MailingList, referral.list_id)
        if found is not None and found.public:
            return found
    return signup.default_list(session, preferred)


def _referral(request: Request, ref: str) -> Token | None:
    """A forged or stale referral is ignored, not an error: the sign-up still counts."""
    if not ref:
        return None
    try:
        return web(request).signer.read(ref, Purpose.REFERRAL)
    except BadToken:
        return None


@router.get("/confirm/{token}", response_class=HTMLResponse)
def confirm_page(request: Request, token: str) -> HTMLResponse:
    """Only a button: link scanners open links, and opening one must change nothing."""
    read_token(request, token, Purpose.CONFIRM, max_age=CONFIRM_MAX_AGE)
    form_token = csrf.issue(request, f"c:{token}")
    context = {"title": "Confirm your subscription", "csrf_token": form_token.value}
    response = page(request, "confirm.html", context)
    csrf.remember(request, response, form_token)
    return response


@router.post("/confirm/{token}", response_class=HTMLResponse)
async def confirm(request: Request, token: str) -> HTMLResponse:
    link = await read_token_async(request, token, Purpose.CONFIRM, max_age=CONFIRM_MAX_AGE)
    form = await read_form(request, max_fields=5)
    csrf.check(request, f"c:{token}", form.get(csrf.FIELD))
    done = await run_in_threadpool(_confirm, request, link)
    if not done:
        raise PageError(
            400, "This link no longer works", "Please sign up again if you want our newsletter."
        )
    return page(request, "confirmed.html", {"title": "You are subscribed"})


def _confirm(request: Request, link: Token) -> bool:
    with transaction(web(request).engine) as session:
        return signup.confirm(session, link, client_ip(request), utcnow())


def _form(
    request: Request,
    ref: str = "",
    list_name: str = "",
    email: str = "",
    name: str = "",
    error: str = "",
    status: int = 200,
) -> HTMLResponse:
    with transaction(web(request).engine) as session:
        lists = [
            {"name": row.name, "title": row.title or row.name}
            for row in session.execute(
                select(MailingList.name, MailingList.title)
                .where(MailingList.public)
                .order_by(MailingList.name)
            )
        ]
    form_token = csrf.issue(request, "subscribe")
    context = {
        "title": "Subscribe",
        "lists": lists,
        "list_name": list_name,
        "ref": ref,
        "email": email,
        "name": name,
        "error": error,
        "csrf_token": form_token.value,
        "honeypot": HONEYPOT,
    }
    response = page(request, "subscribe.html", context, status=status)
    csrf.remember(request, response, form_token)
    return response


def _refill(fields: dict[str, str]) -> dict[str, str]:
    return {
        "email": fields["email"],
        "name": fields["name"],
        "list_name": fields["list"],
        "ref": fields["ref"],
    }
