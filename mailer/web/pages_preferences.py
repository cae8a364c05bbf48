"""GET/POST /p/{token}: which lists to stay on, coming back, and the reader's referrals.

Ticking a list here is the only way back in besides a new double opt-in, and it records the
consent (time, IP, source) like a sign-up does. Bounced or complained addresses stay suppressed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailer.readers.links import Purpose, Token
from mailer.web import csrf
from mailer.web.deps import PageError, client_ip, not_found, page, read_token, read_token_async, web
from mailer.web.forms import read_form
from subscribers.db import transaction
from subscribers.models import (
    MailingList,
    Membership,
    MembershipStatus,
    Status,
    Subscriber,
    utcnow,
)
from subscribers.status import resubscribe, unsubscribe_everywhere, unsubscribe_from_list

router = APIRouter()
SOURCE = "preferences"


@dataclass(frozen=True, slots=True)
class ListChoice:
    id: int
    name: str
    description: str
    subscribed: bool


@router.get("/p/{token}", response_class=HTMLResponse)
def preferences_page(request: Request, token: str) -> HTMLResponse:
    link = read_token(request, token, Purpose.PREFERENCES)
    return _render(request, token, link, notice="")


@router.post("/p/{token}", response_class=HTMLResponse)
async def save_preferences(request: Request, token: str) -> HTMLResponse:
    link = await read_token_async(request, token, Purpose.PREFERENCES)
    form = await read_form(request, max_fields=200)
    csrf.check(request, f"p:{token}", form.get(csrf.FIELD))
    try:
        chosen = {int(str(value)) for value in form.getlist("lists")}
    except ValueError as exc:
        raise PageError(400, "Please try again", "The form was not filled in correctly.") from exc
    leave_all = form.get("action") == "leave_all"
    with transaction(web(request).engine) as session:
        if session.get(Subscriber, link.subscriber_id) is None:
            raise not_found("subscription")
        notice = _apply(session, link.subscriber_id, chosen, leave_all, client_ip(request))
    return _render(request, token, link, notice)


def _apply(session: Session, subscriber_id: int, chosen: set[int], leave_all: bool, ip: str) -> str:
    current = _choices(session, subscriber_id)
    known = {choice.id for choice in current}
    chosen &= known
    if leave_all or not chosen:
        unsubscribe_everywhere(session, subscriber_id, SOURCE)
        return "You are unsubscribed from every newsletter."
    for choice in current:
        if choice.subscribed and choice.id not in chosen:
            unsubscribe_from_list(session, subscriber_id, choice.id, SOURCE)
    subscriber = session.get(Subscriber, subscriber_id)
    assert subscriber is not None
    joining = chosen - {c.id for c in current if c.subscribed}
    if joining or subscriber.status in (Status.UNSUBSCRIBED, Status.PENDING):
        resubscribe(session, subscriber_id, sorted(chosen))
        subscriber.consent_source, subscriber.consent_ip = SOURCE, ip
        subscriber.consent_at = utcnow()
    if subscriber.status in (Status.BOUNCED, Status.COMPLAINED):
        return "Saved. Mail to this address is stopped; write to us to lift that."
    return "Your choices are saved."


def _render(request: Request, token: str, link: Token, notice: str) -> HTMLResponse:
    with transaction(web(request).engine) as session:
        subscriber = session.get(Subscriber, link.subscriber_id)
        if subscriber is None:
            raise not_found("subscription")
        context: dict[str, Any] = {
            "title": "Your subscription",
            "email": subscriber.email,
            "status": subscriber.status,
            "choices": _choices(session, subscriber.id),
            "referrals": referral_count(session, subscriber.id),
            "notice": notice,
        }
    form_token = csrf.issue(request, f"p:{token}")
    context["csrf_token"] = form_token.value
    response = page(request, "preferences.html", context)
    csrf.remember(request, response, form_token)
    return response


def _choices(session: Session, subscriber_id: int) -> list[ListChoice]:
    rows = session.execute(
        select(
            MailingList.id,
            func.coalesce(func.nullif(MailingList.title, ""), MailingList.name).label("name"),
            MailingList.description,
            Membership.status,
        )
        .outerjoin(
            Membership,
            (Membership.list_id == MailingList.id) & (Membership.subscriber_id == subscriber_id),
        )
        # Public lists, and private ones the reader is on (or was): never anyone else's.
        .where(MailingList.public | Membership.status.is_not(None))
        .order_by(MailingList.name)
    ).all()
    active = session.scalar(select(Subscriber.status).where(Subscriber.id == subscriber_id))
    return [
        ListChoice(
            row.id,
            row.name,
            row.description,
            active == Status.ACTIVE and row.status == MembershipStatus.SUBSCRIBED,
        )
        for row in rows
    ]


def referral_count(session: Session, subscriber_id: int) -> int:
    """Friends who subscribed through this reader's forwards and confirmed."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(Subscriber)
            .where(Subscriber.referred_by_id == subscriber_id, Subscriber.confirmed_at.is_not(None))
        )
        or 0
    )
