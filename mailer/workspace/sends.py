"""Sends from stored issues: create, test copies, pause, resume, cancel (audited).

The same rules as `newsletter send`: the list must exist, the segment compile and the time
parse before anything is stored; the send keeps a frozen copy of the issue's rendering.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from mailer.accounts import audit
from mailer.accounts.principal import Principal, Role
from mailer.accounts.users import remember_test_to
from mailer.core.errors import NewsletterError, NotFound
from mailer.core.models import Send
from mailer.core.settings import Settings
from mailer.issue.store import get_issue
from mailer.sending import control
from mailer.sending.create import check_audience, create_send, frozen_of, send_test_copy
from mailer.sending.schedule import ensure_future, parse_when
from mailer.transport.base import Transport
from mailer.workspace.guard import need
from subscribers.db import transaction
from subscribers.errors import SubscriberError
from subscribers.store import check_email

MAX_TEST_COPIES = 10


@dataclass(frozen=True, slots=True)
class NewSend:
    issue_id: int
    list_name: str
    segment: str | None = None
    at: str | None = None
    local_time: bool = False
    again: bool = False  # allow the same issue to the same list once more


@dataclass(frozen=True, slots=True)
class Created:
    id: int
    state: str
    recipients: int
    scheduled_at: datetime | None


def create(
    engine: Engine, settings: Settings, actor: Principal, wanted: NewSend, now: datetime
) -> Created:
    need(actor, Role.EDITOR)
    if wanted.local_time and not wanted.at:
        raise NewsletterError('local_time: needs at (the wall-clock time, e.g. "monday 08:00")')
    when = parse_when(wanted.at, settings.NEWSLETTER_TIMEZONE, now) if wanted.at else None
    if when is not None:
        ensure_future(when, now)
    with transaction(engine) as session:
        frozen = frozen_of(get_issue(session, wanted.issue_id))
    list_id, reach = check_audience(engine, wanted.list_name, wanted.segment)
    send_id = create_send(
        engine,
        settings,
        frozen,
        list_id,
        wanted.segment,
        when,
        wanted.local_time,
        now,
        again=wanted.again,
    )
    with transaction(engine) as session:
        detail = f"issue={wanted.issue_id} list={wanted.list_name} recipients={reach}"
        audit.record(session, actor, "send.create", f"send {send_id}", detail)
        send = session.get_one(Send, send_id)
        return Created(send_id, send.state, reach, send.scheduled_at)


def test_copies(
    engine: Engine,
    settings: Settings,
    transport: Transport,
    actor: Principal,
    issue_id: int,
    to: list[str],
    now: datetime,
) -> list[tuple[str, int, str]]:
    """One copy of the issue to each address (working links): (address, send id, message id).
    A person's addresses are remembered for them (mailer.accounts.users.remembered_test_to)."""
    need(actor, Role.EDITOR)
    if not 1 <= len(to) <= MAX_TEST_COPIES:
        raise NewsletterError(f"to: 1 to {MAX_TEST_COPIES} addresses")
    try:
        addresses = [check_email(address) for address in to]
    except SubscriberError as exc:
        raise NewsletterError(f"to: {exc}") from None
    with transaction(engine) as session:
        frozen = frozen_of(get_issue(session, issue_id))
        remember_test_to(session, actor, addresses)  # offered again on any browser
    sent = []
    for address in addresses:
        send_id, message_id = send_test_copy(engine, settings, transport, frozen, address, now)
        sent.append((address, send_id, message_id))
        with transaction(engine) as session:
            audit.record(session, actor, "issue.test", f"issue {issue_id}", f"send={send_id}")
    return sent


def act(
    engine: Engine,
    actor: Principal,
    send_id: int,
    action: str,
    now: datetime,
    resend_uncertain: bool = False,
) -> str:
    """pause, resume (optionally re-sending uncertain batches) or cancel; the new state."""
    need(actor, Role.EDITOR)
    exists(engine, send_id)
    if action == "pause":
        state = control.pause(engine, send_id)
    elif action == "resume":
        state = control.resume(engine, send_id, resend_uncertain)
    else:
        state = control.cancel(engine, send_id, now)
    with transaction(engine) as session:
        audit.record(session, actor, f"send.{action}", f"send {send_id}", f"state={state}")
    return state


def exists(engine: Engine, send_id: int) -> None:
    with transaction(engine) as session:
        if session.get(Send, send_id) is None:
            raise NotFound(f"send {send_id} does not exist")
