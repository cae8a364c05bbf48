"""Deliver a send's batches: claim, build, rate-limit, request, record. No Celery in here.

The Celery tasks (mailer.tasks.sending) and the unit tests call these functions alike. A
runner claims the next due batch of a send, one after another ("claim next"), until none is
claimable. We chose that over one Celery message per batch because the database, not the queue,
says what is left: a million-recipient send needs a handful of messages instead of a thousand,
a lost or duplicated message changes nothing, and a runner started twice just shares the work.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from mailer.core.models import Batch, BatchState, Send, SendState
from mailer.core.settings import Settings
from mailer.issue import placeholders
from mailer.readers.links import Signer
from mailer.sending import batch_repair
from mailer.sending import batches as db
from mailer.sending.payload import LinkContext, Message, Recipient, build_payload, list_id_header
from mailer.sending.plan import RetryPolicy
from mailer.sending.ratelimit import RateLimiter, Unlimited
from mailer.sending.state import finish_if_complete
from mailer.transport.base import (
    PayloadTooLarge,
    PermanentFailure,
    RateLimited,
    TemporaryFailure,
    Transport,
    UncertainOutcome,
)
from subscribers.models import MailingList

log = logging.getLogger(__name__)
DEFAULT_RATE_LIMIT_WAIT = 60.0  # a 429 without X-RateLimit-Reset
UNCERTAIN_HINT = "settled from SendGrid's events when the webhook is set up, else by the editor"


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Runtime:
    """Everything a runner needs, built once per process at the edge."""

    engine: Engine
    transport: Transport
    settings: Settings
    limiter: RateLimiter = field(default_factory=Unlimited)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    clock: Callable[[], datetime] = utcnow
    # Set when the worker is asked to shut down: finish the batch in hand, claim no more.
    stopping: Callable[[], bool] = lambda: False
    # A send's issue is frozen when it is created: read it (and its list's name) once per
    # process, not once per batch (a runner turn is one batch under a real broker).
    frozen: dict[int, tuple[Send, Message]] = field(default_factory=dict)


@dataclass
class RunResult:
    batches: int = 0
    finished: str | None = None
    wait: float | None = None  # seconds until more work of this send becomes claimable


def message_for(engine: Engine, send: Send, settings: Settings) -> Message:
    with engine.connect() as conn:
        name = conn.scalar(select(MailingList.name).where(MailingList.id == send.list_id)) or ""
    return send_message(send, settings, name or "newsletter")


def send_message(send: Send, settings: Settings, list_name: str) -> Message:
    """The send's frozen issue from the configured sender, under `list_name`'s List-Id."""
    return Message(
        subject=send.subject,
        html=send.html,
        text=placeholders.without_banner(send.text),
        from_email=settings.FROM_EMAIL,
        from_name=settings.FROM_NAME,
        list_id_header=list_id_header(list_name, settings.LIST_ID_DOMAIN),
        reply_to=settings.REPLY_TO,
    )


def link_context(
    send: Send, settings: Settings, now: datetime, batch_seq: int | None = None
) -> LinkContext:
    return LinkContext(
        base_url=settings.PUBLIC_BASE_URL,
        signer=Signer(settings.SECRET_KEY),
        send_id=send.id,
        list_id=send.list_id or 0,
        issued_at=int(now.timestamp()),
        unsubscribe_mailto=settings.LIST_UNSUBSCRIBE_MAILTO,
        batch_seq=batch_seq,
    )


def run_send(
    rt: Runtime, send_id: int, budget_seconds: float = 30.0, max_batches: int | None = None
) -> RunResult:
    """Claim and deliver batches of one send until none is claimable or the budget is spent.

    Under a real broker the task passes max_batches=1: a worker's warm shutdown then waits only
    for the batch in hand (the pool child never hears the SIGTERM), and the runner's next turn
    is a fresh message in Redis that any worker can take.
    """
    send, message = frozen_send(rt, send_id)
    result = RunResult()
    deadline = time.monotonic() + budget_seconds
    while not rt.stopping():
        claim = db.claim_next(rt.engine, send_id, rt.clock())
        if claim is None:
            break
        deliver_batch(rt, send, message, claim)
        result.batches += 1
        if time.monotonic() >= deadline or result.batches == max_batches:
            break
    else:
        result.wait = 0.0  # stopping: the rest goes to another worker, or to this one restarted
        return result
    if claim is not None:
        result.wait = 0.0  # budget spent with work perhaps left: come straight back
        return result
    result.finished = finish_if_complete(rt.engine, send_id, rt.clock())
    if result.finished is None:
        result.wait = seconds_until_claimable(rt.engine, send_id, rt.clock())
    return result


def frozen_send(rt: Runtime, send_id: int) -> tuple[Send, Message]:
    """The send (detached: only its frozen columns are used) and its message, cached."""
    if send_id not in rt.frozen:
        with Session(rt.engine, expire_on_commit=False) as session:
            send = session.get_one(Send, send_id)
            session.expunge(send)
        if len(rt.frozen) >= 8:  # a worker serves a few sends at a time
            rt.frozen.pop(next(iter(rt.frozen)))
        rt.frozen[send_id] = (send, message_for(rt.engine, send, rt.settings))
    return rt.frozen[send_id]


def deliver_batch(rt: Runtime, send: Send, message: Message, claim: db.Claim) -> str:
    """One batch, start to finish; returns what became of it."""
    active, gone = db.load_recipients(rt.engine, claim, send.list_id or 0)
    if not active:
        db.record_skipped(rt.engine, claim, gone, rt.clock())
        return BatchState.SKIPPED
    context = link_context(send, rt.settings, rt.clock(), claim.seq)
    payload = build_payload(message, context, active)
    rt.limiter.acquire(len(active))
    if not db.mark_requesting(rt.engine, claim, rt.clock()):
        return "lost"  # the lease ran out while we waited; someone else has the batch now
    try:
        receipt = rt.transport.deliver(payload)
    except Exception as exc:  # every outcome is recorded, none dropped
        return _record_failure(rt, claim, active, gone, exc)
    db.record_sent(rt.engine, claim, receipt.message_id, len(active), gone, rt.clock())
    return BatchState.SENT


def _record_failure(
    rt: Runtime, claim: db.Claim, active: list[Recipient], gone: list[int], exc: Exception
) -> str:
    now = rt.clock()
    if isinstance(exc, PayloadTooLarge) and len(active) > 1:
        batch_repair.split_batch(rt.engine, claim, now)
        return "split"
    if isinstance(exc, PermanentFailure):
        status = f"{exc.status} " if exc.status else ""
        db.record_failed(rt.engine, claim, f"SendGrid refused ({status.strip()}): {exc}", gone, now)
        return BatchState.FAILED
    if isinstance(exc, RateLimited):
        until = now + timedelta(seconds=exc.retry_after or DEFAULT_RATE_LIMIT_WAIT)
        db.record_retry(rt.engine, claim, f"rate limited (429): {exc}", until, throttle=True)
        return BatchState.PENDING
    if isinstance(exc, TemporaryFailure):
        return _retry_or_give_up(rt, claim, gone, exc, now)
    if isinstance(exc, UncertainOutcome):
        # Never retried blindly: SendGrid's own events settle it (mailer.events.settle).
        db.record_failed(rt.engine, claim, f"{exc} ({UNCERTAIN_HINT})", gone, now, uncertain=True)
        return BatchState.UNCERTAIN
    log.exception("unexpected error during the request of batch %s", claim.seq)
    error = f"unexpected error during the request ({type(exc).__name__}: {exc}); outcome unknown"
    db.record_failed(rt.engine, claim, error, gone, now, uncertain=True)
    return BatchState.UNCERTAIN


def _retry_or_give_up(
    rt: Runtime, claim: db.Claim, gone: list[int], exc: TemporaryFailure, now: datetime
) -> str:
    if claim.attempts >= rt.settings.SEND_MAX_ATTEMPTS:
        error = f"gave up after {claim.attempts} attempts: {exc}"
        db.record_failed(rt.engine, claim, error, gone, now)
        return BatchState.FAILED
    delay = max(exc.retry_after or 0.0, rt.retry.delay(claim.attempts))
    db.record_retry(
        rt.engine, claim, f"temporary failure: {exc}", now + timedelta(seconds=delay), False
    )
    return BatchState.PENDING


def seconds_until_claimable(engine: Engine, send_id: int, now: datetime) -> float | None:
    """How long until a pending batch of the send may be claimed (None: no pending batch, or
    the send is not running). A paused send's pending batches are not claimable at all: its
    runners stop here, and `resume` queues new ones (else a runner re-queues itself in a loop)."""
    with engine.connect() as conn:
        state, throttled = conn.execute(
            select(Send.state, Send.throttled_until).where(Send.id == send_id)
        ).one()
        if state != SendState.SENDING:
            return None
        rows = conn.execute(
            select(Batch.not_before, Batch.due_at).where(
                Batch.send_id == send_id, Batch.state == BatchState.PENDING
            )
        ).all()
    if not rows:
        return None
    earliest = min(max(now, nb or now, due or now) for nb, due in rows)
    if throttled is not None:
        earliest = max(earliest, throttled)
    return max(0.0, (earliest - now).total_seconds())
