"""Settle `uncertain` batches from SendGrid's own evidence: its events.

A batch is uncertain when its request went out and the answer was lost (a dropped connection,
a read timeout, a worker that died mid-request). SendGrid takes or refuses a request whole, and
every message it takes produces events (`processed`, or `dropped` for a suppressed address)
carrying the personalization's custom_args, among them the batch number (`nl_batch`). So:
- any event of the batch itself: SendGrid accepted the request -> the batch is `sent`;
- none, while events of a request made *later* for the same send arrived at least
  UNCERTAIN_SETTLE_SECONDS ago: SendGrid never took ours -> it goes back to `pending` and is sent
  again (events travel in ~30 s webhook batches; the window covers their jitter and delays);
- no Event Webhook configured: no evidence can ever come, the editor decides (`status` says so).
Run by the scheduler's periodic check; safe to run twice (every change is conditional).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine, exists, func, select, update
from sqlalchemy.orm import Session

from mailer.core.models import (
    Batch,
    BatchState,
    Event,
    RecipientState,
    SendRecipient,
    SendState,
    WebhookPost,
)
from mailer.core.models import Send as SendRow
from mailer.core.settings import Settings
from mailer.sending.state import rowcount
from subscribers.db import transaction

ACCEPTED_NOTE = "settled: SendGrid's events show it accepted the request"
RESENT_NOTE = "settled: no SendGrid event for it while later requests had theirs; sending again"


def webhook_configured(cfg: Settings) -> bool:
    return cfg.SENDGRID_WEBHOOK_PUBLIC_KEY is not None or cfg.SENDGRID_WEBHOOK_INSECURE


@dataclass
class Settled:
    sent: int = 0
    resent: int = 0
    reopened: set[int] = field(default_factory=set)  # sends with batches to deliver again


def settle_uncertain(engine: Engine, cfg: Settings, now: datetime) -> Settled:
    """Judge every uncertain batch against the events received so far."""
    result = Settled()
    if not webhook_configured(cfg):
        return result
    with engine.connect() as conn:
        rows = conn.execute(
            select(Batch.id, Batch.send_id, Batch.seq, Batch.requested_at).where(
                Batch.state == BatchState.UNCERTAIN
            )
        ).all()
    window = cfg.UNCERTAIN_SETTLE_SECONDS
    cutoff = now - timedelta(seconds=window)
    for batch_id, send_id, seq, requested_at in rows:
        with transaction(engine) as session:
            if _has_own_events(session, send_id, seq):
                result.sent += _mark_sent(session, batch_id, send_id, seq)
                continue
            if window <= 0 or not _later_evidence_older_than(
                session, send_id, requested_at, cutoff
            ):
                continue  # keep waiting (or, with the window off, leave it to the editor)
            if _resend(session, batch_id, send_id, seq):
                result.resent += 1
                result.reopened.add(send_id)
    return result


def _has_own_events(session: Session, send_id: int, seq: int) -> bool:
    own = exists().where(Event.send_id == send_id, Event.batch_seq == seq)
    return bool(session.scalar(select(own)))


def _later_evidence_older_than(
    session: Session, send_id: int, requested_at: datetime | None, cutoff: datetime
) -> bool:
    """Did events of a request made after ours (same send) arrive before `cutoff`?"""
    if requested_at is None:
        return False
    later = select(Batch.seq).where(Batch.send_id == send_id, Batch.requested_at > requested_at)
    first_arrival = session.scalar(
        select(func.min(WebhookPost.received_at))
        .select_from(Event)
        .join(WebhookPost, WebhookPost.id == Event.post_id)
        .where(Event.send_id == send_id, Event.batch_seq.in_(later))
    )
    return first_arrival is not None and first_arrival <= cutoff


def _mark_sent(session: Session, batch_id: int, send_id: int, seq: int) -> int:
    people = session.scalar(
        select(func.count()).where(
            SendRecipient.send_id == send_id,
            SendRecipient.batch_seq == seq,
            SendRecipient.state == RecipientState.UNCERTAIN,
        )
    )
    changed = rowcount(
        session.execute(
            update(Batch)
            .where(Batch.id == batch_id, Batch.state == BatchState.UNCERTAIN)
            .values(state=BatchState.SENT, sent_count=people or 0, error=ACCEPTED_NOTE)
        )
    )
    if changed:
        _move_people(session, send_id, seq, RecipientState.SENT)
    return changed


def _resend(session: Session, batch_id: int, send_id: int, seq: int) -> bool:
    changed = rowcount(
        session.execute(
            update(Batch)
            .where(Batch.id == batch_id, Batch.state == BatchState.UNCERTAIN)
            .values(
                state=BatchState.PENDING,
                worker_id=None,
                requested_at=None,
                not_before=None,
                finished_at=None,
                error=RESENT_NOTE,
            )
        )
    )
    if changed:
        _move_people(session, send_id, seq, RecipientState.QUEUED)
        session.execute(
            update(SendRow)
            .where(SendRow.id == send_id, SendRow.state.in_((SendState.DONE, SendState.FAILED)))
            .values(state=SendState.SENDING, finished_at=None)
        )
    return bool(changed)


def _move_people(session: Session, send_id: int, seq: int, state: RecipientState) -> None:
    session.execute(
        update(SendRecipient)
        .where(SendRecipient.send_id == send_id, SendRecipient.batch_seq == seq)
        .where(SendRecipient.state == RecipientState.UNCERTAIN)
        .values(state=state)
    )


# --- what `status` and the report say about it ----------------------------------------------


@dataclass(frozen=True)
class UncertainSummary:
    batches: int
    recipients: int
    settled_accepted: int  # batches found accepted from their events
    settled_resent: int  # batches sent again: no event of theirs came

    def as_dict(self) -> dict[str, int]:
        return {
            "batches": self.batches,
            "recipients": self.recipients,
            "settled_accepted": self.settled_accepted,
            "settled_resent": self.settled_resent,
        }


def summary(session: Session, send_id: int) -> UncertainSummary:
    open_ = session.execute(
        select(func.count(), func.coalesce(func.sum(Batch.recipient_count), 0)).where(
            Batch.send_id == send_id, Batch.state == BatchState.UNCERTAIN
        )
    ).one()
    notes = dict(
        session.execute(
            select(Batch.error, func.count())
            .where(Batch.send_id == send_id, Batch.error.in_((ACCEPTED_NOTE, RESENT_NOTE)))
            .group_by(Batch.error)
        ).all()
    )
    return UncertainSummary(
        int(open_[0]), int(open_[1]), notes.get(ACCEPTED_NOTE, 0), notes.get(RESENT_NOTE, 0)
    )


def explain(found: UncertainSummary, cfg: Settings | None, send_id: int) -> list[str]:
    """One line per fact worth telling the editor; nothing when there is nothing uncertain."""
    lines = []
    if found.settled_accepted or found.settled_resent:
        lines.append(
            f"{found.settled_accepted + found.settled_resent} batches whose answer was lost were "
            f"settled from SendGrid's events: {found.settled_accepted} had been accepted, "
            f"{found.settled_resent} sent again"
        )
    if not found.batches:
        return lines
    if cfg is None:  # the report: point at `status`, which knows the configuration
        lines.append(
            f"{found.recipients} recipients in {found.batches} uncertain batches: SendGrid may "
            f"or may not have them; `newsletter status {send_id}` says how they get settled"
        )
        return lines
    what = f"{found.recipients} recipients in {found.batches} uncertain batches"
    manual = f"`newsletter resume {send_id} --resend-uncertain` sends them again (may duplicate)"
    if not webhook_configured(cfg):
        lines.append(
            f"{what}: the Event Webhook is not configured, so only you can settle them: {manual}"
        )
    elif cfg.UNCERTAIN_SETTLE_SECONDS <= 0:
        lines.append(
            f"{what}: marked sent when SendGrid's events for them arrive; automatic "
            f"resending is off (UNCERTAIN_SETTLE_SECONDS=0): {manual}"
        )
    else:
        lines.append(
            f"{what}: marked sent when SendGrid's events for them arrive, sent again when none "
            f"came while events of later batches are {cfg.UNCERTAIN_SETTLE_SECONDS:g} s old "
            f"(the send's last batch has no later one: {manual})"
        )
    return lines
