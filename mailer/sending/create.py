"""Create a send from a rendered issue: check everything first, then store the frozen issue.

Nothing is stored until the list exists, the segment compiles and the time parses, so a typo
never leaves a half-made send behind. The issue is stored rendered (what was sent stays what it
was), with `web_html`, the archive copy whose personal links point at public pages instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, func, select

from mailer.core.errors import NewsletterError
from mailer.core.models import Batch, BatchState, Send, SendState, StoredIssue
from mailer.core.settings import Settings
from mailer.issue import placeholders as ph
from mailer.sending.payload import Recipient, as_test_copy, build_payload
from mailer.sending.pipeline import link_context, send_message
from mailer.sending.plan import local_start_at
from mailer.sending.schedule import When
from mailer.transport.base import Transport, TransportError
from subscribers.audience import audience_query
from subscribers.db import transaction
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


def frozen_of(row: StoredIssue) -> Frozen:
    """What a send keeps of a stored issue: a copy, so later edits of the draft change nothing."""
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
    """(list id, how many it would reach now); raises before anything is stored."""
    if segment:
        compile_segment(segment)  # SegmentError names the column
    with transaction(engine) as session:
        found = find_list(session, list_name)
        if found is None:
            raise NewsletterError(f"list {list_name!r} does not exist")
        audience = audience_query(found.id, segment).subquery()
        count = session.scalar(select(func.count()).select_from(audience)) or 0
        return found.id, count


def create_send(
    engine: Engine,
    settings: Settings,
    issue: Frozen,
    list_id: int,
    segment: str | None,
    when: When | None,
    local_time: bool,
    now: datetime,
) -> int:
    """Store a `scheduled` send; the scheduler (or the caller, if due now) starts it."""
    scheduled_at = when.at if when else now
    wall = None
    if local_time:
        wall_dt = when.wall if when else now.astimezone(settings.timezone).replace(tzinfo=None)
        wall = wall_dt.isoformat()
        scheduled_at = min(local_start_at(wall_dt), scheduled_at)
    with transaction(engine) as session:
        send = _new_send(
            issue,
            settings,
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
    engine: Engine, settings: Settings, transport: Transport, issue: Frozen, to: str, now: datetime
) -> tuple[int, str]:
    """One copy to `to` only, recorded as its own send (state done/failed), never archived."""
    with transaction(engine) as session:
        send = _new_send(
            issue,
            settings,
            test_to=to,
            state=SendState.SENDING,
            scheduled_at=now,
            started_at=now,
            archived=False,
        )
        session.add(send)
        session.flush()
        batch = Batch(send_id=send.id, seq=0, state=BatchState.CLAIMED, recipient_count=1)
        batch.attempts, batch.sent_count = 1, 0
        session.add(batch)
        session.flush()
        send_id = send.id
    message = as_test_copy(send_message(send, settings, "test"))
    payload = build_payload(message, link_context(send, settings, now), [Recipient(0, to, "Test")])
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
        batch.sent_count = 1 if error is None else 0
        batch.message_id, batch.error, batch.finished_at = message_id, error, now
    if error:
        raise NewsletterError(f"test copy to {to_text(payload)} failed: {error}")
    return message_id or ""


def to_text(payload: dict[str, object]) -> str:
    people = payload.get("personalizations")
    if isinstance(people, list) and people:
        return str(people[0]["to"][0]["email"])
    return "?"
