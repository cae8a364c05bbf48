"""Celery tasks of the messages queue: one outbox row (a forwarded issue, a confirmation).

Tasks carry only the row's id; the row is written before the task is queued and marked sent
after the provider took the message, and `redispatch` (run by the scheduler) re-queues rows
whose task was lost. A temporary provider failure is retried with backoff; a permanent one is
recorded on the row, where an operator sees it, rather than dropped.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import lru_cache
from typing import Any

from celery import Task
from sqlalchemy import Engine

from mailer.core.models import OutboxMessage
from mailer.readers import outbox
from mailer.readers.outbox_build import build
from mailer.tasks.app import celery_app, worker_settings
from mailer.transport.base import PermanentFailure, TemporaryFailure
from mailer.transport.factory import make_transport
from subscribers.db import make_engine, transaction
from subscribers.models import utcnow

log = logging.getLogger(__name__)
_RETRY = {"bind": True, "max_retries": 8, "acks_late": True}


@lru_cache(maxsize=4)
def _engine(url: str) -> Engine:
    return make_engine(url)


@celery_app.task(**_RETRY)
def deliver_message(self: Task[Any, Any], message_id: int) -> str:
    """Send one outbox row unless it was sent already or may not be sent any more."""
    settings = worker_settings()
    engine = _engine(settings.DATABASE_URL)
    with transaction(engine) as session:
        row = session.get(OutboxMessage, message_id)
        if row is None or row.sent_at is not None:
            return "done"
        built = build(session, settings, row)
        if isinstance(built, str):
            outbox.finish(row, settings.SECRET_KEY, utcnow(), error=built)
            return "skipped"
    try:
        make_transport(settings).deliver(built)
    except TemporaryFailure as exc:
        _record_failure(engine, message_id, str(exc), False, settings.SECRET_KEY)
        delay = exc.retry_after or min(600, 5 * 2**self.request.retries)
        raise self.retry(exc=exc, countdown=delay) from exc
    except PermanentFailure as exc:
        _record_failure(engine, message_id, str(exc), True, settings.SECRET_KEY)
        raise
    with transaction(engine) as session:
        row = session.get(OutboxMessage, message_id)
        if row is not None:
            outbox.finish(row, settings.SECRET_KEY, utcnow())
    return "sent"


def _record_failure(
    engine: Engine, message_id: int, error: str, permanent: bool, secret_key: str
) -> None:
    with transaction(engine) as session:
        row = session.get(OutboxMessage, message_id)
        if row is not None:
            outbox.failed(row, error, permanent, secret_key)


@celery_app.task
def redispatch() -> int:
    """Re-queue outbox rows whose task was lost (the scheduler runs this every minute)."""
    settings = worker_settings()
    engine = _engine(settings.DATABASE_URL)
    now = utcnow()
    with transaction(engine) as session:
        ids = outbox.stale(session, now, timedelta(seconds=settings.OUTBOX_REDISPATCH_SECONDS))
    dispatch(engine, ids)
    return len(ids)


def dispatch(engine: Engine, ids: list[int]) -> None:
    """Queue the rows' tasks (without Redis: send them now, after the page has answered).

    A failure here loses nothing: the row stays unsent and `redispatch` tries again."""
    outbox.mark_dispatched(engine, ids, utcnow())
    for message_id in ids:
        try:
            deliver_message.delay(message_id)
        except Exception as exc:  # a broker down, or an eager task's failure: the row stays
            log.warning("outbox message %d not sent yet: %s", message_id, exc)
