"""A batch's life in the database: claim, load, mark requesting, record the answer, reap.

Core connections, not ORM sessions: these few statements run for every batch, and a session's
bookkeeping was a measurable part of a worker's time per batch.

pending -> claimed (one conditional UPDATE that exactly one worker wins) -> requesting (the
`requested_at` stamp, written just before the HTTP request) -> sent | failed | pending again
(retry, with not_before) | skipped (split by a 413, or nobody left to mail). Every write after the
claim is conditional on the claim token (`worker_id`), so a worker whose claim was taken away
(lease expired) can never overwrite someone else's record.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, Engine, case, exists, or_, select, text, update

from mailer.core.models import Batch, BatchState, RecipientState, Send, SendRecipient, SendState
from mailer.sending.recipients import load_recipients
from mailer.sending.state import claimable_filter, rowcount

WORKER = f"{socket.gethostname()}:{os.getpid()}"
__all__ = ["Claim", "claim_next", "load_recipients"]  # load_recipients lives in .recipients


@dataclass(frozen=True, slots=True)
class Claim:
    batch_id: int
    send_id: int
    seq: int
    token: str  # stored as worker_id: host:pid:nonce of this one claim
    attempts: int


def claim_next(engine: Engine, send_id: int, now: datetime) -> Claim | None:
    """Claim the next due batch of a running, unthrottled send, or None if there is none.

    One connection and, when nobody races us, one statement: the send's state and throttle
    are part of the claim's condition rather than a query of their own."""
    for _ in range(50):  # a lost race retries with the next candidate
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # A claim lost in a database crash is harmless: the batch is pending again and
                # mark_requesting (durable) refuses the worker that lost it. Not waiting for the
                # WAL flush saves one disk sync per batch.
                conn.execute(text("SET LOCAL synchronous_commit = off"))
            claim = _try_claim(conn, send_id, now)
            if claim is not None:
                return claim
            left = conn.scalar(select(Batch.id).where(*_claimable_now(send_id, now)).limit(1))
        if left is None:
            return None
    return None


def _claimable_now(send_id: int, now: datetime) -> list[ColumnElement[bool]]:
    running = exists().where(
        Send.id == send_id,
        Send.state == SendState.SENDING,
        or_(Send.throttled_until.is_(None), Send.throttled_until <= now),
    )
    return [*claimable_filter(send_id, now), running]


def _try_claim(conn: Connection, send_id: int, now: datetime) -> Claim | None:
    """One conditional UPDATE ... RETURNING: of two workers racing, exactly one gets a row.

    On PostgreSQL the candidate is picked FOR UPDATE SKIP LOCKED, so concurrent claimers take
    different batches instead of queueing on the same row lock; the `state = pending` condition
    stays, because a subquery is not re-evaluated after waiting for a lock."""
    token = f"{WORKER}:{uuid.uuid4().hex[:10]}"
    candidate = (
        select(Batch.id)
        .where(*_claimable_now(send_id, now))
        .order_by(Batch.seq)
        .limit(1)
        .with_for_update(skip_locked=True)
    ).scalar_subquery()
    row = conn.execute(
        update(Batch)
        .where(Batch.id == candidate, Batch.state == BatchState.PENDING)
        .values(
            state=BatchState.CLAIMED,
            worker_id=token,
            claimed_at=now,
            requested_at=None,
            attempts=Batch.attempts + 1,
        )
        .returning(Batch.id, Batch.seq, Batch.attempts)
    ).first()
    if row is None:
        return None
    return Claim(row.id, send_id, row.seq, token, row.attempts)


def owned_by(claim: Claim, *states: BatchState) -> list[ColumnElement[bool]]:
    """This claim's batch, still in one of `states` (claimed by default) and still ours."""
    allowed = states or (BatchState.CLAIMED,)
    return [Batch.id == claim.batch_id, Batch.worker_id == claim.token, Batch.state.in_(allowed)]


def mark_requesting(engine: Engine, claim: Claim, now: datetime) -> bool:
    """Last word before the request; False if the claim was taken away meanwhile."""
    with engine.begin() as conn:
        return _move(conn, claim, requested_at=now, claimed_at=now)


def record_sent(
    engine: Engine, claim: Claim, message_id: str | None, sent: int, gone: list[int], now: datetime
) -> bool:
    """202: the batch is sent (a late answer also beats an `uncertain` verdict: it is the truth)."""
    with engine.begin() as conn:
        changed = _move(
            conn,
            claim,
            (BatchState.CLAIMED, BatchState.UNCERTAIN),
            state=BatchState.SENT,
            message_id=message_id,
            sent_count=sent,
            finished_at=now,
            # A settlement's note ("settled: ... sending again") stays: status and the report
            # show which batches were resent after a lost answer.
            error=case((Batch.error.like("settled:%"), Batch.error), else_=None),
        )
        if changed:
            _set_recipients(conn, claim, gone, RecipientState.SKIPPED)
            _set_batch_recipients(conn, claim, RecipientState.SENT)
        return changed


def record_skipped(engine: Engine, claim: Claim, gone: list[int], now: datetime) -> bool:
    """Everybody in the batch left before it went out: nothing to request."""
    with engine.begin() as conn:
        changed = _move(
            conn,
            claim,
            state=BatchState.SKIPPED,
            finished_at=now,
            error="no active recipients left",
        )
        if changed:
            _set_recipients(conn, claim, gone, RecipientState.SKIPPED)
        return changed


def record_failed(
    engine: Engine,
    claim: Claim,
    error: str,
    gone: list[int],
    now: datetime,
    uncertain: bool = False,
) -> bool:
    """A permanent refusal (or an unknown outcome): final, visible in status, never retried."""
    final = BatchState.UNCERTAIN if uncertain else BatchState.FAILED
    people = RecipientState.UNCERTAIN if uncertain else RecipientState.FAILED
    with engine.begin() as conn:
        changed = _move(conn, claim, state=final, finished_at=now, error=error[:4000])
        if changed:
            _set_recipients(conn, claim, gone, RecipientState.SKIPPED)
            _set_batch_recipients(conn, claim, people)
        return changed


def record_retry(
    engine: Engine, claim: Claim, error: str, not_before: datetime, throttle: bool
) -> bool:
    """Back to pending after a temporary failure; a 429 holds back the whole send."""
    with engine.begin() as conn:
        changed = _move(
            conn,
            claim,
            state=BatchState.PENDING,
            not_before=not_before,
            error=error[:4000],
            worker_id=None,
        )
        if changed and throttle:
            later = case(
                (Send.throttled_until.is_(None), not_before),
                (Send.throttled_until < not_before, not_before),
                else_=Send.throttled_until,
            )
            conn.execute(update(Send).where(Send.id == claim.send_id).values(throttled_until=later))
        return changed


def _move(
    conn: Connection,
    claim: Claim,
    states: tuple[BatchState, ...] = (BatchState.CLAIMED,),
    **values: object,
) -> bool:
    """Write `values` to the claim's batch if it is still ours and in `states`; did it?"""
    stmt = update(Batch).where(*owned_by(claim, *states)).values(**values)
    return bool(rowcount(conn.execute(stmt)))


def _set_recipients(
    conn: Connection, claim: Claim, subscriber_ids: list[int], state: RecipientState
) -> None:
    for start in range(0, len(subscriber_ids), 500):
        conn.execute(
            update(SendRecipient)
            .where(SendRecipient.send_id == claim.send_id)
            .where(SendRecipient.subscriber_id.in_(subscriber_ids[start : start + 500]))
            .values(state=state)
        )


def _set_batch_recipients(conn: Connection, claim: Claim, state: RecipientState) -> None:
    # `uncertain` too: the reaper may have judged the batch before its late answer came in.
    undecided = (RecipientState.QUEUED, RecipientState.UNCERTAIN)
    conn.execute(
        update(SendRecipient)
        .where(
            SendRecipient.send_id == claim.send_id,
            SendRecipient.batch_seq == claim.seq,
            SendRecipient.state.in_(undecided),
        )
        .values(state=state)
    )
