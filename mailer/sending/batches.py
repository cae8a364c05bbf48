"""A batch's life in the database: claim, load, mark requesting, record the answer, reap.

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

from sqlalchemy import ColumnElement, Engine, case, select, update
from sqlalchemy.orm import Session

from mailer.core.models import Batch, BatchState, RecipientState, Send, SendRecipient, SendState
from mailer.sending.payload import Recipient
from mailer.sending.state import claimable_filter, rowcount
from subscribers.db import transaction
from subscribers.models import Membership, MembershipStatus, Status, Subscriber

WORKER = f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True, slots=True)
class Claim:
    batch_id: int
    send_id: int
    seq: int
    token: str  # stored as worker_id: host:pid:nonce of this one claim
    attempts: int


def claim_next(engine: Engine, send_id: int, now: datetime) -> Claim | None:
    """Claim the next due batch of a running, unthrottled send, or None if there is none."""
    with engine.connect() as conn:
        state, throttled = conn.execute(
            select(Send.state, Send.throttled_until).where(Send.id == send_id)
        ).one()
    if state != SendState.SENDING or (throttled is not None and throttled > now):
        return None
    for _ in range(50):  # a lost race retries with the next candidate
        claim = _try_claim(engine, send_id, now)
        if claim is not None:
            return claim
        with engine.connect() as conn:
            left = conn.scalar(select(Batch.id).where(*claimable_filter(send_id, now)).limit(1))
        if left is None:
            return None
    return None


def _try_claim(engine: Engine, send_id: int, now: datetime) -> Claim | None:
    """One conditional UPDATE ... RETURNING: of two workers racing, exactly one gets a row."""
    token = f"{WORKER}:{uuid.uuid4().hex[:10]}"
    candidate = (
        select(Batch.id).where(*claimable_filter(send_id, now)).order_by(Batch.seq).limit(1)
    ).scalar_subquery()
    with transaction(engine) as session:
        row = session.execute(
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


def load_recipients(
    engine: Engine, claim: Claim, list_id: int
) -> tuple[list[Recipient], list[int]]:
    """The batch's queued recipients, split into still-active ones and those who left since.

    Two index lookups rather than one join: the batch's ids through (send_id, batch_seq), then
    those people by primary key. A join lets the planner pick a scan of the whole send (SQLite
    walked the primary key; PostgreSQL, once it has statistics, hash-joins all subscribers)."""
    with engine.connect() as conn:
        ids = list(
            conn.execute(
                select(SendRecipient.subscriber_id).where(
                    SendRecipient.send_id == claim.send_id,
                    SendRecipient.batch_seq == claim.seq,
                    SendRecipient.state == RecipientState.QUEUED,
                )
            ).scalars()
        )
        rows = (
            conn.execute(
                select(Subscriber.id, Subscriber.email, Subscriber.name, Subscriber.status)
                .add_columns(Membership.status, Subscriber.link_key)
                .outerjoin(
                    Membership,
                    (Membership.subscriber_id == Subscriber.id) & (Membership.list_id == list_id),
                )
                .where(Subscriber.id.in_(ids))
            ).all()
            if ids
            else []
        )
    active: list[Recipient] = []
    gone = sorted(set(ids) - {row[0] for row in rows})  # deleted meanwhile: nobody to mail
    for sid, email, name, status, membership, link_key in rows:
        if status == Status.ACTIVE and membership == MembershipStatus.SUBSCRIBED:
            active.append(Recipient(sid, email, name or "", link_key))
        else:
            gone.append(sid)
    active.sort(key=lambda r: r.subscriber_id)
    return active, gone


def owned_by(claim: Claim, *states: BatchState) -> list[ColumnElement[bool]]:
    """This claim's batch, still in one of `states` (claimed by default) and still ours."""
    allowed = states or (BatchState.CLAIMED,)
    return [Batch.id == claim.batch_id, Batch.worker_id == claim.token, Batch.state.in_(allowed)]


def mark_requesting(engine: Engine, claim: Claim, now: datetime) -> bool:
    """Last word before the request; False if the claim was taken away meanwhile."""
    with transaction(engine) as session:
        return _move(session, claim, requested_at=now, claimed_at=now)


def record_sent(
    engine: Engine, claim: Claim, message_id: str | None, sent: int, gone: list[int], now: datetime
) -> bool:
    """202: the batch is sent (a late answer also beats an `uncertain` verdict: it is the truth)."""
    with transaction(engine) as session:
        changed = _move(
            session,
            claim,
            (BatchState.CLAIMED, BatchState.UNCERTAIN),
            state=BatchState.SENT,
            message_id=message_id,
            sent_count=sent,
            finished_at=now,
            error=None,
        )
        if changed:
            _set_recipients(session, claim, gone, RecipientState.SKIPPED)
            _set_batch_recipients(session, claim, RecipientState.SENT)
        return changed


def record_skipped(engine: Engine, claim: Claim, gone: list[int], now: datetime) -> bool:
    """Everybody in the batch left before it went out: nothing to request."""
    with transaction(engine) as session:
        changed = _move(
            session,
            claim,
            state=BatchState.SKIPPED,
            finished_at=now,
            error="no active recipients left",
        )
        if changed:
            _set_recipients(session, claim, gone, RecipientState.SKIPPED)
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
    with transaction(engine) as session:
        changed = _move(session, claim, state=final, finished_at=now, error=error[:4000])
        if changed:
            _set_recipients(session, claim, gone, RecipientState.SKIPPED)
            _set_batch_recipients(session, claim, people)
        return changed


def record_retry(
    engine: Engine, claim: Claim, error: str, not_before: datetime, throttle: bool
) -> bool:
    """Back to pending after a temporary failure; a 429 holds back the whole send."""
    with transaction(engine) as session:
        changed = _move(
            session,
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
            session.execute(
                update(Send).where(Send.id == claim.send_id).values(throttled_until=later)
            )
        return changed


def _move(
    session: Session,
    claim: Claim,
    states: tuple[BatchState, ...] = (BatchState.CLAIMED,),
    **values: object,
) -> bool:
    """Write `values` to the claim's batch if it is still ours and in `states`; did it?"""
    stmt = update(Batch).where(*owned_by(claim, *states)).values(**values)
    return bool(rowcount(session.execute(stmt)))


def _set_recipients(
    session: Session, claim: Claim, subscriber_ids: list[int], state: RecipientState
) -> None:
    for start in range(0, len(subscriber_ids), 500):
        session.execute(
            update(SendRecipient)
            .where(SendRecipient.send_id == claim.send_id)
            .where(SendRecipient.subscriber_id.in_(subscriber_ids[start : start + 500]))
            .values(state=state)
        )


def _set_batch_recipients(session: Session, claim: Claim, state: RecipientState) -> None:
    session.execute(
        update(SendRecipient)
        .where(
            SendRecipient.send_id == claim.send_id,
            SendRecipient.batch_seq == claim.seq,
            SendRecipient.state == RecipientState.QUEUED,
        )
        .values(state=state)
    )
