"""Repairs of a batch's life: a 413 splits it, a dead worker's stale claim is reaped.

Reaping follows from the `requested_at` stamp: a stale claim that never started its request is
safe to hand out again; one that did may have reached SendGrid (which has no idempotency key), so
it becomes `uncertain` and only the editor may choose to resend it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, func, select, update

from mailer.core.models import Batch, BatchState, RecipientState, SendRecipient
from mailer.sending.batches import Claim, owned_by
from mailer.sending.plan import split_sizes
from mailer.sending.state import rowcount
from subscribers.db import transaction


def split_batch(engine: Engine, claim: Claim, now: datetime) -> tuple[int, int] | None:
    """413: the batch's queued recipients become two new batches; the original is kept, empty."""
    with transaction(engine) as session:
        # Write first, so SQLite takes its write lock before we read.
        touched = session.execute(update(Batch).where(*owned_by(claim)).values(claimed_at=now))
        if not rowcount(touched):
            return None
        ids = list(
            session.execute(
                select(SendRecipient.subscriber_id)
                .where(
                    SendRecipient.send_id == claim.send_id,
                    SendRecipient.batch_seq == claim.seq,
                    SendRecipient.state == RecipientState.QUEUED,
                )
                .order_by(SendRecipient.subscriber_id)
            ).scalars()
        )
        first, _second = split_sizes(len(ids))
        if first == 0 or len(ids) < 2:
            return None
        top = session.scalar(select(func.max(Batch.seq)).where(Batch.send_id == claim.send_id))
        seqs = ((top or 0) + 1, (top or 0) + 2)
        original = session.get_one(Batch, claim.batch_id)
        for seq, part in zip(seqs, (ids[:first], ids[first:]), strict=True):
            session.add(_child(original, seq, len(part)))
            session.execute(
                update(SendRecipient)
                .where(SendRecipient.send_id == claim.send_id)
                .where(SendRecipient.subscriber_id.in_(part))
                .values(batch_seq=seq)
            )
        original.state = BatchState.SKIPPED
        original.recipient_count = 0  # its people are counted in the two halves now
        original.finished_at = now
        original.error = f"too large (413): split into batches {seqs[0]} and {seqs[1]}"
        return seqs


def _child(original: Batch, seq: int, count: int) -> Batch:
    return Batch(
        send_id=original.send_id,
        seq=seq,
        state=BatchState.PENDING,
        timezone=original.timezone,
        due_at=original.due_at,
        attempts=0,
        recipient_count=count,
        sent_count=0,
    )


def reap_stale(engine: Engine, now: datetime, lease_seconds: float) -> tuple[int, int]:
    """Claims older than the lease belong to dead workers. Never requested: back to pending
    (nothing went out). Requested with no answer: uncertain (SendGrid has no idempotency key, so
    only the editor may decide to resend)."""
    cutoff = now - timedelta(seconds=lease_seconds)
    stale = [Batch.state == BatchState.CLAIMED, Batch.claimed_at < cutoff]
    with transaction(engine) as session:
        released = rowcount(
            session.execute(
                update(Batch)
                .where(*stale, Batch.requested_at.is_(None))
                .values(state=BatchState.PENDING, worker_id=None)
            )
        )
        lost = session.execute(
            select(Batch.send_id, Batch.seq).where(*stale, Batch.requested_at.is_not(None))
        ).all()
        for send_id, seq in lost:
            session.execute(
                update(Batch)
                .where(Batch.send_id == send_id, Batch.seq == seq, *stale)
                .values(
                    state=BatchState.UNCERTAIN,
                    finished_at=now,
                    error="worker went silent during the request: SendGrid may or may not "
                    "have accepted it (resume --resend-uncertain to send again)",
                )
            )
            session.execute(
                update(SendRecipient)
                .where(SendRecipient.send_id == send_id, SendRecipient.batch_seq == seq)
                .where(SendRecipient.state == RecipientState.QUEUED)
                .values(state=RecipientState.UNCERTAIN)
            )
        return released, len(lost)
