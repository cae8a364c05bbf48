"""GET/POST /u/{token}: the unsubscribe page and the RFC 8058 one-click endpoint.

GET only shows a page (mail scanners follow links). POST unsubscribes, from the list the email
came from or, when the page's "all newsletters" box is ticked, everywhere. A POST with the body
`List-Unsubscribe=One-Click` (urlencoded or multipart) is a mailbox provider's one-click: it
carries no cookie or CSRF token by design, gets a 200 and never a redirect, and is kept to one
short transaction because it is the busiest route.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from mailer.links import Purpose, Token
from mailer.models import Event
from mailer.web.deps import not_found, page, read_token, sibling, web
from subscribers.db import transaction
from subscribers.models import (
    SUPPRESSED,
    MailingList,
    Membership,
    MembershipStatus,
    Subscriber,
    utcnow,
)
from subscribers.status import unsubscribe_everywhere, unsubscribe_from_list

router = APIRouter()


@router.get("/u/{token}", response_class=HTMLResponse)
def unsubscribe_page(request: Request, token: str) -> HTMLResponse:
    link = read_token(request, token, Purpose.UNSUBSCRIBE)
    with transaction(web(request).engine) as session:
        found = session.execute(
            select(Subscriber.email, Subscriber.status).where(Subscriber.id == link.subscriber_id)
        ).first()
        if found is None:
            raise not_found("subscription")
        list_name, on_list = _list_state(session, link)
    already = found.status in SUPPRESSED or (link.list_id and not on_list)
    context = {
        "title": "Unsubscribe",
        "email": found.email,
        "list_name": list_name,
        "already": already,
        "preferences_url": web(request).url(sibling(link, Purpose.PREFERENCES)),
    }
    return page(request, "unsubscribe.html", context)


@router.post("/u/{token}")
async def unsubscribe(request: Request, token: str) -> Response:
    link = read_token(request, token, Purpose.UNSUBSCRIBE)
    form = await request.form(max_files=0, max_fields=10)
    one_click = form.get("List-Unsubscribe") == "One-Click"
    everywhere = link.list_id == 0 or (not one_click and form.get("scope") == "all")
    source = "one-click" if one_click else "page"
    engine = web(request).engine
    email = await run_in_threadpool(apply_unsubscribe, engine, link, everywhere, source)
    if email is None:
        raise not_found("subscription")
    if one_click:
        return PlainTextResponse("Unsubscribed.\n")
    context = {
        "title": "You are unsubscribed",
        "email": email,
        "everywhere": everywhere,
        "preferences_url": web(request).url(sibling(link, Purpose.PREFERENCES)),
    }
    return page(request, "unsubscribed.html", context)


def apply_unsubscribe(engine: Engine, link: Token, everywhere: bool, source: str) -> str | None:
    """One transaction; the address, or None when the subscriber no longer exists."""
    now = utcnow()
    with transaction(engine) as session:
        email = session.scalar(select(Subscriber.email).where(Subscriber.id == link.subscriber_id))
        if email is None:
            return None
        if everywhere:
            changed = unsubscribe_everywhere(session, link.subscriber_id, source, now)
        else:
            changed = unsubscribe_from_list(session, link.subscriber_id, link.list_id, source, now)
        if changed and link.send_id:
            _record_for_report(session, link, email, everywhere, source, now)
    return email


def _record_for_report(
    session: Session, link: Token, email: str, everywhere: bool, source: str, now: datetime
) -> None:
    """An already-applied event, so the send's report counts people who left from it."""
    session.add(
        Event(
            sg_event_id=f"web-unsubscribe:{link.send_id}:{link.subscriber_id}:{now.timestamp()}",
            event="unsubscribe" if everywhere else "group_unsubscribe",
            email=email,
            subscriber_id=link.subscriber_id,
            send_id=link.send_id,
            occurred_at=now,
            data={"source": source, "list_id": link.list_id},
            applied_at=now,
        )
    )


def _list_state(session: Session, link: Token) -> tuple[str, bool]:
    row = session.execute(
        select(MailingList.name, Membership.status)
        .outerjoin(
            Membership,
            (Membership.list_id == MailingList.id)
            & (Membership.subscriber_id == link.subscriber_id),
        )
        .where(MailingList.id == link.list_id)
    ).first()
    if row is None:
        return "", False
    return row.name, row.status == MembershipStatus.SUBSCRIBED
