"""Create a send from a rendered issue: check everything first, then store the frozen issue.

Nothing is stored until the list exists, the segment compiles and the time parses, so a typo
never leaves a half-made send behind. The issue is stored rendered (what was sent stays what it
was), with `web_html`, the archive copy whose personal links point at public pages instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from mailer.core.errors import NewsletterError
from mailer.core.models import Batch, BatchState, Send, SendState, StoredIssue
from mailer.core.settings import Settings
from mailer.issue import placeholders as ph
from mailer.readers.links import TEST_SUBSCRIBER
from mailer.sending.guards import content_hash, refuse_empty, refuse_repeat
from mailer.sending.payload import Recipient, as_test_copy, build_payload
from mailer.sending.pipeline import link_context, send_message
from mailer.sending.plan import local_start_at
from mailer.sending.schedule import When
from mailer.transport.base import Transport, TransportError
from subscribers.audience import audience_query
from subscribers.db import transaction
from subscribers.lists import known_lists
from subscribers.models import MailingList
from subscribers.segments import compile_segment
from subscribers.store import find_list


@dataclass(frozen=True, slots=True)
class Frozen:
    """The rendered issue as the send keeps it."""

    subject: str
    preheader: str
    slug: str
    html: str
    text: str
    issue_date: str | None = None
    source_path: str = ""
    issue_id: int | None = None  # the stored issue (draft) it was copied from

    @property
    def content_hash(self) -> str:
        return content_hash(self.subject, self.html, self.text)


def frozen_of(row: StoredIssue) -> Frozen:
    """What a send keeps of a stored issue: a copy, so later edits of the draft change nothing.
    A draft whose Markdown does not parse has no rendering of its text to send: refused."""
    if row.parse_error:
        raise NewsletterError(
            f"issue {row.id} does not parse ({row.parse_error}): "
            "fix the draft before a test copy, a schedule or a send"
        )
    return Frozen(
        subject=row.subject,
        preheader=row.preheader,
        slug=row.slug,
        html=row.html,
        text=row.text,
        issue_date=row.issue_date,
        source_path=row.source_path,
        issue_id=row.id,
    )


def web_copy(html: str, base_url: str, slug: str) -> str:
    """The archive copy: personal links become public, non-personal ones."""
    public = {
        ph.UNSUBSCRIBE_URL: f"{base_url}/subscribe",
        ph.PREFERENCES_URL: f"{base_url}/subscribe",
        ph.FORWARD_URL: f"{base_url}/archive/{slug}",
        ph.VIEW_URL: f"{base_url}/archive/{slug}",
        ph.NAME: "",
    }
    return ph.fill(html, public)


def check_audience(engine: Engine, list_name: str, segment: str | None) -> tuple[int, int]:
    """(list id, how many it would reach now); raises before anything is stored, and on 0."""
    if segment:
        compile_segment(segment)  # SegmentError names the column
    with transaction(engine) as session:
        found = find_list(session, list_name)
        if found is None:
            raise NewsletterError(f"list {list_name!r} does not exist{known_lists(session)}")
        count = _reach(session, found.id, segment)
        refuse_empty(count, found.name, segment)
        return found.id, count


def _reach(session: Session, list_id: int, segment: str | None) -> int:
    audience = audience_query(list_id, segment).subquery()
    return session.scalar(select(func.count()).select_from(audience)) or 0


def check_repeat(engine: Engine, issue: Frozen, list_id: int) -> None:
    """Refuse the same issue to the same list again (the caller passes `again` to skip this)."""
    with transaction(engine) as session:
        target = session.get_one(MailingList, list_id)
        refuse_repeat(session, list_id, issue.content_hash, target.name)


def create_send(
    engine: Engine,
    settings: Settings,
    issue: Frozen,
    list_id: int,
    segment: str | None,
    when: When | None,
    local_time: bool,
    now: datetime,
    again: bool = False,
) -> int:
    """Store a `scheduled` send; the scheduler (or the caller, if due now) starts it.

    Refused (NewsletterError) when nobody would receive it, or when the same issue already
    went, or is scheduled, to the same list and `again` is not set.
    """
    scheduled_at, wall = _start_and_wall(settings, when, local_time, now)
    with transaction(engine) as session:
        target = session.get_one(MailingList, list_id)
        refuse_empty(_reach(session, list_id, segment), target.name, segment)
        if not again:
            refuse_repeat(session, list_id, issue.content_hash, target.name)
        send = _new_send(
            issue,
            settings,
            content_hash=issue.content_hash,
            issue_date=issue.issue_date,
            source_path=issue.source_path,
            list_id=list_id,
            segment=segment or None,
            state=SendState.SCHEDULED,
            scheduled_at=scheduled_at,
            local_time=local_time,
            wall_time=wall,
        )
        session.add(send)
        session.flush()
        return send.id


def _start_and_wall(
    settings: Settings, when: When | None, local_time: bool, now: datetime
) -> tuple[datetime, str | None]:
    """When the send starts, and for --local-time the wall clock each reader gets it at."""
    if not local_time:
        return (when.at if when else now), None
    wall = when.wall if when else now.astimezone(settings.timezone).replace(tzinfo=None)
    return min(local_start_at(wall), when.at if when else now), wall.isoformat()


def _new_send(issue: Frozen, settings: Settings, **fields: object) -> Send:
    """A send holding the frozen issue and its archive copy; `fields` say what kind of send."""
    return Send(
        slug=issue.slug,
        subject=issue.subject,
        preheader=issue.preheader,
        html=issue.html,
        text=issue.text,
        web_html=web_copy(issue.html, settings.PUBLIC_BASE_URL, issue.slug),
        issue_id=issue.issue_id,
        **fields,
    )


def send_test_copy(
    engine: Engine,
    settings: Settings,
    transport: Transport,
    issue: Frozen,
    to: str | Sequence[str],
    now: datetime,
) -> tuple[int, str]:
    """One copy to each address in `to` only, in one request, recorded as its own send
    (state done/failed), never archived. Its links carry subscriber 0, which the pages answer
    as a test copy's (they show what a reader would see and change nobody)."""
    addresses = list(dict.fromkeys([to] if isinstance(to, str) else to))  # once each
    if not addresses:
        raise NewsletterError("a test copy needs at least one address")
    with transaction(engine) as session:
        send = _new_send(
            issue,
            settings,
            test_to=", ".join(addresses),
            state=SendState.SENDING,
            scheduled_at=now,
            started_at=now,
            archived=False,
        )
        session.add(send)
        session.flush()
        batch = Batch(
            send_id=send.id, seq=0, state=BatchState.CLAIMED, recipient_count=len(addresses)
        )
        batch.attempts, batch.sent_count = 1, 0
        session.add(batch)
        session.flush()
        send_id = send.id
    message = as_test_copy(send_message(send, settings, "test"))
    people = [Recipient(TEST_SUBSCRIBER, address, "Test") for address in addresses]
    payload = build_payload(message, link_context(send, settings, now), people)
    return send_id, _deliver_test(engine, transport, payload, send_id, now)


def _deliver_test(
    engine: Engine, transport: Transport, payload: dict[str, object], send_id: int, now: datetime
) -> str:
    try:
        receipt = transport.deliver(payload)
        state, error, message_id = SendState.DONE, None, receipt.message_id
    except TransportError as exc:
        state, error, message_id = SendState.FAILED, str(exc), None
    with transaction(engine) as session:
        send = session.get_one(Send, send_id)
        send.state, send.finished_at, send.error = state, now, error
        batch = session.scalars(select(Batch).where(Batch.send_id == send_id)).one()
        batch.state = BatchState.SENT if error is None else BatchState.FAILED
        batch.sent_count = batch.recipient_count if error is None else 0
        batch.message_id, batch.error, batch.finished_at = message_id, error, now
    if error:
        raise NewsletterError(f"test copy to {to_text(payload)} failed: {error}")
    return message_id or ""


def to_text(payload: dict[str, object]) -> str:
    people = payload.get("personalizations")
    if isinstance(people, list) and people:
        return str(people[0]["to"][0]["email"])
    return "?"
