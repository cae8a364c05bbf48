"""Before a send goes out from the workspace: check the plan, then show what will happen.

`check_plan` reads the editor's choices (list, segment, time, local time) and names the field
of the first problem; `preflight` gathers what the pre-flight page shows: the audience and its
change since the last send to that list, whether a test copy went, whether this issue already
went (or is scheduled) to that list, and when the first and last copies go.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine, select

from mailer.core.errors import NewsletterError
from mailer.core.models import Send, SendState
from mailer.sending.create import Frozen, check_audience
from mailer.sending.plan import local_due_at
from mailer.sending.schedule import When, ensure_future, parse_when
from subscribers.audience import audience_query
from subscribers.db import transaction
from subscribers.errors import SubscriberError


class FieldError(NewsletterError):
    """A problem with one form field, so the page can show it next to that field."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.field = name
        self.reason = message


@dataclass(frozen=True)
class Plan:
    list_name: str
    list_id: int
    segment: str | None
    when: When | None  # None: now
    local_time: bool
    audience: int
    first_at: datetime | None = None
    last_at: datetime | None = None


@dataclass(frozen=True)
class Preflight:
    plan: Plan
    subject: str
    preheader: str
    previous_audience: int | None
    test_sent: bool
    already: list[int] = field(default_factory=list)  # sends of this issue to this list


def check_plan(
    engine: Engine,
    list_name: str,
    segment: str,
    at: str,
    local_time: bool,
    zone: str,
    now: datetime,
) -> Plan:
    if not list_name.strip():
        raise FieldError("list", "choose a list")
    try:
        list_id, audience = check_audience(engine, list_name, segment.strip() or None)
    except SubscriberError as exc:
        raise FieldError("segment", str(exc).removeprefix("segment: ")) from exc
    except NewsletterError as exc:
        raise FieldError("list", str(exc)) from exc
    if audience == 0:
        raise FieldError("segment", "nobody is in this audience: a send needs at least one reader")
    when = _when(at, local_time, zone, now)
    first = last = when.at if when else now
    if local_time and when is not None:
        first, last = _spread(engine, list_id, segment.strip() or None, when, zone)
    return Plan(
        list_name, list_id, segment.strip() or None, when, local_time, audience, first, last
    )


def _when(at: str, local_time: bool, zone: str, now: datetime) -> When | None:
    if not at.strip():
        if local_time:
            raise FieldError("at", "each reader's local time needs a date and time")
        return None
    try:
        when = parse_when(at, zone, now)
        ensure_future(when, now)
    except NewsletterError as exc:
        raise FieldError("at", str(exc).removeprefix("--at: ")) from exc
    return when


def _spread(
    engine: Engine, list_id: int, segment: str | None, when: When, zone: str
) -> tuple[datetime, datetime]:
    """When the first and the last copies go: the wall time in the audience's earliest and
    latest time zones."""
    audience = audience_query(list_id, segment).subquery()
    with engine.connect() as conn:
        zones = conn.scalars(select(audience.c.timezone).distinct()).all()
    due = [local_due_at(when.wall, name, zone) for name in zones] or [when.at]
    return min(due), max(due)


def preflight(engine: Engine, issue: Frozen, plan: Plan) -> Preflight:
    with transaction(engine) as session:
        previous = session.scalar(
            select(Send.total_recipients)
            .where(Send.list_id == plan.list_id, Send.test_to.is_(None))
            .where(Send.state.in_((SendState.DONE, SendState.FAILED, SendState.SENDING)))
            .order_by(Send.id.desc())
            .limit(1)
        )
        tested = session.scalar(
            select(Send.id).where(Send.slug == issue.slug, Send.test_to.is_not(None)).limit(1)
        )
        already = session.scalars(
            select(Send.id)
            .where(Send.slug == issue.slug, Send.list_id == plan.list_id, Send.test_to.is_(None))
            .where(Send.state != SendState.CANCELLED)
            .order_by(Send.id)
        ).all()
    return Preflight(
        plan, issue.subject, issue.preheader, previous, tested is not None, list(already)
    )
