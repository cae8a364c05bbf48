"""GET/POST /u/{token}: the unsubscribe page and the RFC 8058 one-click endpoint.

GET only shows a page (mail scanners follow links). POST unsubscribes, from the list the email
came from or, when the page's "all newsletters" box is ticked, everywhere. A POST with the body
`List-Unsubscribe=One-Click` (urlencoded or multipart) is a mailbox provider's one-click: it
carries no cookie or CSRF token by design, gets a 200 and never a redirect, and is kept to one
short transaction because it is the busiest route.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from sqlalchemy import Connection, Engine, Integer, String, bindparam, insert, select
from sqlalchemy.orm import Session

from mailer.core.models import Event
from mailer.readers.links import Purpose, Token
from mailer.web.deps import PageError, not_found, page, read_token, read_token_async, sibling, web
from mailer.web.forms import read_form
from subscribers.db import is_sqlite, transaction
from subscribers.models import (
    SUPPRESSED,
    MailingList,
    Membership,
    MembershipStatus,
    Subscriber,
    utcnow,
)
from subscribers.status import unsubscribe_everywhere, unsubscribe_from_list
from subscribers.types import JSONDict, UTCDateTime

router = APIRouter()
ONE_CLICK = "one-click"
_MAX_BODY = 16 * 1024

_EXISTS = select(Subscriber.id).where(Subscriber.id == bindparam("b_subscriber_id"))
# `applied_at` is set: the change is already made, the event policy must not apply it again.
_RECORD = insert(Event).from_select(
    [
        "sg_event_id",
        "event",
        "email",
        "subscriber_id",
        "send_id",
        "occurred_at",
        "data",
        "applied_at",
    ],
    select(
        bindparam("b_event_id", type_=String()),
        bindparam("b_event", type_=String()),
        Subscriber.email,
        Subscriber.id,
        bindparam("b_send_id", type_=Integer()),
        bindparam("b_when", type_=UTCDateTime()),
        bindparam("b_data", type_=JSONDict),
        bindparam("b_when", type_=UTCDateTime()),
    ).where(Subscriber.id == bindparam("b_subscriber_id")),
)


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
    link = await read_token_async(request, token, Purpose.UNSUBSCRIBE)
    form = await _small_form(request)
    one_click = form.get("List-Unsubscribe") == "One-Click"
    everywhere = link.list_id == 0 or (not one_click and form.get("scope") == "all")
    engine = web(request).engine
    if one_click and not everywhere:
        if is_sqlite(engine):
            # On the event loop, not in a thread: with SQLite the write is a local indexed
            # UPDATE (and an INSERT) of well under a millisecond, less than a thread hand-off.
            found = one_click_unsubscribe(engine, link)
        else:
            # A database server costs round trips: overlap them in threads.
            found = await run_in_threadpool(one_click_unsubscribe, engine, link)
        if not found:
            raise not_found("subscription")
        return PlainTextResponse("Unsubscribed.\n")
    source = "one-click" if one_click else "page"
    done = await run_in_threadpool(apply_unsubscribe, engine, link, everywhere, source)
    if done is None:
        raise not_found("subscription")
    if one_click:
        return PlainTextResponse("Unsubscribed.\n")
    context = {
        "title": "You are unsubscribed",
        "email": done[0],
        "list_name": done[1],
        "everywhere": everywhere,
        "preferences_url": web(request).url(sibling(link, Purpose.PREFERENCES)),
    }
    return page(request, "unsubscribed.html", context)


async def _small_form(request: Request) -> dict[str, str]:
    """The posted fields; urlencoded bodies (the usual one-click) parsed without the multipart
    machinery, multipart through Starlette. Either way a few fields, nothing large."""
    kind = request.headers.get("content-type", "")
    if kind.startswith("multipart/form-data"):
        form = await read_form(request, max_fields=10)
        return {key: value for key, value in form.items() if isinstance(value, str)}
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > _MAX_BODY:
            raise PageError(413, "Too much", "This page takes only a short form.")
    try:
        return dict(parse_qsl(body.decode("utf-8", "replace"), max_num_fields=10))
    except ValueError as exc:
        raise PageError(400, "Please try again", "This page takes only a short form.") from exc


def one_click_unsubscribe(engine: Engine, link: Token) -> bool:
    """The RFC 8058 path: leave the list in one short transaction; False if nobody is there.

    Core statements built once on a bare connection: this is the route mailbox providers and
    whole inboxes hit at once, so it does no ORM work and usually runs two statements.
    """
    now = utcnow()
    with engine.begin() as conn:
        if unsubscribe_from_list(conn, link.subscriber_id, link.list_id, ONE_CLICK, now):
            if link.send_id:
                _record_for_report(conn, link, False, ONE_CLICK, now)
            return True
        return conn.execute(_EXISTS, {"b_subscriber_id": link.subscriber_id}).first() is not None


def apply_unsubscribe(
    engine: Engine, link: Token, everywhere: bool, source: str
) -> tuple[str, str] | None:
    """One transaction; the address and list name, or None when the subscriber is gone."""
    now = utcnow()
    with transaction(engine) as session:
        found = session.execute(
            select(Subscriber.email, MailingList.name)
            .outerjoin(MailingList, MailingList.id == link.list_id)
            .where(Subscriber.id == link.subscriber_id)
        ).first()
        if found is None:
            return None
        email, list_name = found.email, found.name or ""
        if everywhere:
            changed = unsubscribe_everywhere(session, link.subscriber_id, source, now)
        else:
            changed = unsubscribe_from_list(session, link.subscriber_id, link.list_id, source, now)
        if changed and link.send_id:
            _record_for_report(session.connection(), link, everywhere, source, now)
    return email, list_name


def _record_for_report(
    conn: Connection, link: Token, everywhere: bool, source: str, now: datetime
) -> None:
    """An already-applied event, so the send's report counts people who left from it."""
    conn.execute(
        _RECORD,
        {
            "b_event_id": f"web-unsubscribe:{link.send_id}:{link.subscriber_id}:{now.timestamp()}",
            "b_event": "unsubscribe" if everywhere else "group_unsubscribe",
            "b_send_id": link.send_id,
            "b_when": now,
            "b_data": {"source": source, "list_id": link.list_id},
            "b_subscriber_id": link.subscriber_id,
        },
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
