"""Celery tasks of the events queue: judge stored webhook posts, sweep leftovers."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import Engine

from mailer.events.processing import apply_pending, apply_post, policy_config
from mailer.tasks.app import celery_app, worker_settings
from subscribers.db import make_engine
from subscribers.models import utcnow


@lru_cache(maxsize=4)
def _engine(url: str) -> Engine:
    return make_engine(url)


@celery_app.task(name="mailer.tasks.events.process_post", acks_late=True)
def process_post(post_id: int) -> dict[str, int]:
    """Apply the policy to one stored post; running it twice changes nothing."""
    cfg = worker_settings()
    outcome = apply_post(_engine(cfg.DATABASE_URL), post_id, policy_config(cfg), utcnow())
    return {"judged": outcome.judged, **outcome.changed}


@celery_app.task(name="mailer.tasks.events.sweep")
def sweep() -> dict[str, int]:
    """Judge events no task picked up (lost message, crash before commit); safe at any time."""
    cfg = worker_settings()
    outcome = apply_pending(_engine(cfg.DATABASE_URL), policy_config(cfg), utcnow())
    return {"judged": outcome.judged, **outcome.changed}
