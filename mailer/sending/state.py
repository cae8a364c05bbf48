"""The send state machine in the database: create, start (freeze the audience), control, finish.

States: scheduled -> sending -> done | failed, with paused and cancelled reachable from the
first three. Every transition is one conditional UPDATE, so two schedulers, a restart or a
redelivered Celery task can never start, finish or resume a send twice.

Freezing the audience uses a recipients table (`send_recipients`), filled by one
INSERT ... SELECT that numbers the audience and cuts it into batches in SQL (ROW_NUMBER() OVER
(ORDER BY id) / size). We chose it over id ranges because it is an exact, durable record of who
was in which batch and what became of each person: `status`, reports and `--resend-uncertain`
can name every recipient, and there is never a partial send without a record of who got it.
The cost (one narrow row per recipient: about 2 s per million on SQLite, 4 s on PostgreSQL)
is paid once, at start.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    Engine,
    Result,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session

from mailer.core.models import Batch, BatchState, RecipientState, Send, SendRecipient, SendState
from mailer.sending.plan import Group, local_due_at
from subscribers.audience import audience_query
from subscribers.db import transaction

OPEN_BATCHES = (BatchState.PENDING, BatchState.CLAIMED)


def rowcount(result: Result[Any]) -> int:
    """Rows a DML statement changed: how a conditional UPDATE tells who won."""
    return cast(CursorResult[Any], result).rowcount


@dataclass(frozen=True, slots=True)
class Freeze:
    """What starting a send decided: batch count and recipients, per timezone group."""

    recipients: int
    batches: int
    groups: list[Group]


def start_send(
    engine: Engine, send_id: int, now: datetime, batch_size: int, default_zone: str
) -> Freeze | None:
    """scheduled -> sending and freeze the audience, in one transaction; None if not ours."""
    with transaction(engine) as session:
        won = rowcount(
            session.execute(
                update(Send)
                .where(Send.id == send_id, Send.state == SendState.SCHEDULED)
                .where(or_(Send.scheduled_at.is_(None), Send.scheduled_at <= now))
                .values(state=SendState.SENDING, started_at=now)
            )
        )
        if won != 1:
            return None
        send = session.get_one(Send, send_id)
        freeze = freeze_audience(session, send, batch_size, default_zone)
        send.planned_at = now
        send.total_recipients = freeze.recipients
    return freeze


def refresh_statistics(engine: Engine) -> None:
    """After a freeze on PostgreSQL: a million fresh rows and no statistics yet, and the planner
    may scan the whole send for every batch until autovacuum gets round to it. Called once the
    runners are queued: it reads a sample of up to 30,000 pages (1.1 s at 200k recipients on a
    loaded 2-core machine), time the first batch need not wait for."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE send_recipients"))


def freeze_audience(session: Session, send: Send, batch_size: int, default_zone: str) -> Freeze:
    """Copy the audience into send_recipients with batch numbers, then one row per batch."""
    assert send.list_id is not None, "a list send has a list"
    audience = audience_query(send.list_id, send.segment).subquery()
    wall = datetime.fromisoformat(send.wall_time) if send.local_time and send.wall_time else None
    zones: list[tuple[str | None, bool]] = [(None, False)]
    if wall is not None:
        found = session.execute(select(audience.c.timezone).distinct()).scalars().all()
        zones = [(zone, True) for zone in sorted(found, key=lambda z: z or "")]
    groups: list[Group] = []
    next_seq = 0
    for zone, by_zone in zones:
        count = _insert_group(session, send.id, audience, zone, by_zone, next_seq, batch_size)
        if not count:
            continue
        batches = -(-count // batch_size)
        due = local_due_at(wall, zone, default_zone) if wall is not None else None
        groups.append(Group(zone, count, next_seq, batches, due))
        next_seq += batches
    _insert_batches(session, send.id, groups, batch_size)
    return Freeze(sum(g.count for g in groups), next_seq, groups)


def _insert_group(
    session: Session,
    send_id: int,
    audience: object,
    zone: str | None,
    by_zone: bool,
    first_seq: int,
    size: int,
) -> int:
    """Number one timezone group's audience into batches; returns how many people it holds."""
    aud = audience  # a Subquery with columns id, timezone
    row_number = func.row_number().over(order_by=aud.c.id)  # type: ignore[attr-defined]
    query = select(
        literal(send_id),
        aud.c.id,  # type: ignore[attr-defined]
        (row_number - 1) // size + first_seq,
        literal(RecipientState.QUEUED.value),
    )
    if by_zone:
        column = aud.c.timezone  # type: ignore[attr-defined]
        query = query.where(column.is_(None) if zone is None else column == zone)
    columns = ["send_id", "subscriber_id", "batch_seq", "state"]
    # The INSERT's own row count (kept on PostgreSQL only when asked for) saves a scan of the
    # million rows it just wrote.
    conn = session.connection().execution_options(preserve_rowcount=True)
    return rowcount(conn.execute(insert(SendRecipient).from_select(columns, query)))


def _insert_batches(session: Session, send_id: int, groups: list[Group], size: int) -> None:
    """One row per batch. ROW_NUMBER() fills a group's batches in order, so each batch holds
    `size` people but the group's last, which holds the rest: no need to count them again."""
    rows = [
        {
            "send_id": send_id,
            "seq": group.first_seq + i,
            "state": BatchState.PENDING.value,
            "timezone": group.timezone,
            "due_at": group.due_at,
            "attempts": 0,
            "recipient_count": min(size, group.count - i * size),
            "sent_count": 0,
        }
        for group in groups
        for i in range(group.batches)
    ]
    if rows:
        session.execute(insert(Batch), rows)


def due_sends(engine: Engine, now: datetime) -> list[int]:
    with engine.connect() as conn:
        query = select(Send.id).where(Send.state == SendState.SCHEDULED, Send.scheduled_at <= now)
        return list(conn.execute(query.order_by(Send.id)).scalars())


def finish_if_complete(engine: Engine, send_id: int, now: datetime) -> str | None:
    """sending -> done (or failed if a batch failed) once no batch is pending or claimed."""
    open_batches = exists().where(Batch.send_id == send_id, Batch.state.in_(OPEN_BATCHES))
    any_failed = exists().where(Batch.send_id == send_id, Batch.state == BatchState.FAILED)
    with transaction(engine) as session:
        failed = bool(session.scalar(select(any_failed)))
        final = SendState.FAILED if failed else SendState.DONE
        changed = rowcount(
            session.execute(
                update(Send)
                .where(Send.id == send_id, Send.state == SendState.SENDING, ~open_batches)
                .values(state=final, finished_at=now)
            )
        )
        return final.value if changed else None


def sending_sends(engine: Engine) -> list[int]:
    with engine.connect() as conn:
        return list(conn.execute(select(Send.id).where(Send.state == SendState.SENDING)).scalars())


def claimable_filter(send_id: int, now: datetime) -> list[ColumnElement[bool]]:
    """A pending batch may go when it is due and its retry wait is over."""
    return [
        Batch.send_id == send_id,
        Batch.state == BatchState.PENDING,
        or_(Batch.due_at.is_(None), Batch.due_at <= now),
        or_(Batch.not_before.is_(None), Batch.not_before <= now),
    ]


def stalled(engine: Engine, send_id: int, now: datetime, quiet_seconds: float) -> bool:
    """Claimable work but no batch touched lately: the queued tasks were lost (Redis restart,
    a killed worker whose message waits out the visibility timeout), so dispatch again."""
    since = now - timedelta(seconds=quiet_seconds)
    with engine.connect() as conn:
        started, throttled = conn.execute(
            select(Send.started_at, Send.throttled_until).where(Send.id == send_id)
        ).one()
        if throttled is not None and throttled > now:
            return False
        claimable = exists().where(*claimable_filter(send_id, now))
        if not conn.scalar(select(claimable)):
            return False
        claimed, finished = conn.execute(
            select(func.max(Batch.claimed_at), func.max(Batch.finished_at)).where(
                Batch.send_id == send_id
            )
        ).one()
    recent = [t for t in (claimed, finished, started) if t is not None]
    return not recent or max(recent) < since
