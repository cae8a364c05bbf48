"""Apply the policy to stored events: claim each unapplied event once, judge it, mark the post.

Claiming is a conditional UPDATE (`applied_at IS NULL`) in the same transaction as the status
changes, so overlapping posts, redelivered tasks and sweeps apply every event exactly once; on
PostgreSQL `FOR UPDATE SKIP LOCKED` lets a concurrent claimer pass rows another one holds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Engine, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from mailer.core.bulk_sql import among, is_postgres
from mailer.core.models import Event, WebhookPost
from mailer.core.settings import Settings
from mailer.events.correlate import CLAIMED_COLUMNS
from mailer.events.intake import event_ids
from mailer.events.policy import Outcome, PolicyConfig, judge
from subscribers.db import transaction

log = logging.getLogger(__name__)

_CHUNK = 1000
_ATTEMPTS = 4
T = TypeVar("T")


def policy_config(settings: Settings) -> PolicyConfig:
    return PolicyConfig(
        soft_bounce_limit=settings.SOFT_BOUNCE_LIMIT,
        soft_bounce_window=timedelta(days=settings.SOFT_BOUNCE_WINDOW_DAYS),
    )


def claim(session: Session, condition: ColumnElement[bool], now: datetime) -> list[Any]:
    """Mark matching unapplied events applied and return them; nobody else gets them."""
    candidates = (
        select(Event.id)
        .where(condition, Event.applied_at.is_(None))
        .with_for_update(skip_locked=True)
    )
    statement = (
        update(Event)
        .where(Event.id.in_(candidates), Event.applied_at.is_(None))
        .values(applied_at=now)
        .returning(*CLAIMED_COLUMNS)
    )
    return list(session.execute(statement).all())


def _retrying(work: Callable[[], T]) -> T:
    """A deadlock (PostgreSQL) or a busy database (SQLite) rolls back cleanly: run again."""
    for attempt in range(1, _ATTEMPTS + 1):
        try:
            return work()
        except OperationalError:
            if attempt == _ATTEMPTS:
                raise
            log.warning("event processing hit a lock conflict; retrying (attempt %d)", attempt)
            time.sleep(0.05 * attempt)
    raise AssertionError("unreachable")


def apply_post(engine: Engine, post_id: int, cfg: PolicyConfig, now: datetime) -> Outcome:
    """Judge every still-unapplied event this post carried (also those a first copy stored)."""
    with transaction(engine) as session:
        body = session.execute(
            select(WebhookPost.body).where(WebhookPost.id == post_id)
        ).scalar_one_or_none()
    if body is None:
        return Outcome()
    ids = event_ids(body)

    def work() -> Outcome:
        total = Outcome()
        with transaction(engine) as session:
            # Write first: on SQLite this takes the write lock before any read.
            session.execute(
                update(WebhookPost).where(WebhookPost.id == post_id).values(processed_at=now)
            )
            for start in range(0, len(ids), _CHUNK):
                chunk = ids[start : start + _CHUNK]
                wanted = among(Event.sg_event_id, chunk, is_postgres(session))
                claimed = claim(session, wanted, now)
                _merge(total, judge(session, claimed, cfg))
        return total

    return _retrying(work)


def apply_pending(engine: Engine, cfg: PolicyConfig, now: datetime, limit: int = 5000) -> Outcome:
    """Sweep: judge events left unapplied (e.g. a task lost before it ran). Safe any time."""

    def work() -> Outcome:
        with transaction(engine) as session:
            oldest = (
                select(Event.id).where(Event.applied_at.is_(None)).order_by(Event.id).limit(limit)
            )
            claimed = claim(session, Event.id.in_(oldest), now)
            return judge(session, claimed, cfg)

    return _retrying(work)


def _merge(total: Outcome, part: Outcome) -> None:
    total.judged += part.judged
    for key, value in part.changed.items():
        total.changed[key] = total.changed.get(key, 0) + value
