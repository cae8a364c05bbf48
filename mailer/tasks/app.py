"""The Celery application: Redis broker from REDIS_URL, or eager in-process without it.

Three queues keep slow work from delaying urgent work: `sends` (batches of an issue),
`messages` (forwards, confirmations, test copies) and `events` (webhook processing).
"""

from __future__ import annotations

from functools import lru_cache

from celery import Celery
from kombu import Queue

from mailer.core.settings import Settings, load_settings

QUEUES = ("sends", "messages", "events")
TASK_MODULES = [
    "mailer.tasks.sending",
    "mailer.tasks.messages",
    "mailer.tasks.events",
    "mailer.tasks.heartbeat",
]


@lru_cache(maxsize=1)
def worker_settings() -> Settings:
    """Settings of this worker process, built once at the edge."""
    return load_settings()


def make_celery(settings: Settings) -> Celery:
    app = Celery("newsletter", include=TASK_MODULES)
    eager = settings.REDIS_URL is None
    app.conf.update(
        broker_url=settings.REDIS_URL or "memory://",
        result_backend=settings.REDIS_URL,
        task_always_eager=eager,
        task_eager_propagates=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_queues=[Queue(name) for name in QUEUES],
        task_default_queue="sends",
        task_routes={
            "mailer.tasks.sending.*": {"queue": "sends"},
            "mailer.tasks.messages.*": {"queue": "messages"},
            "mailer.tasks.events.*": {"queue": "events"},
        },
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        # Longer than any batch can take, so Redis does not hand a running task to a second worker.
        broker_transport_options={"visibility_timeout": 3600},
        worker_hijack_root_logger=False,
        timezone="UTC",
        # `newsletter scheduler` (beat) only ever enqueues this periodic check; sends scheduled
        # for later live in the database, never as long ETAs in Redis.
        beat_schedule={
            "dispatch-due-sends": {
                "task": "mailer.tasks.sending.dispatch_due",
                "schedule": settings.SCHEDULER_INTERVAL_SECONDS,
                "options": {"expires": settings.SCHEDULER_INTERVAL_SECONDS * 4},
            },
            # Single messages (forwards, confirmations) whose task was lost are re-queued here.
            "redispatch-outbox": {
                "task": "mailer.tasks.messages.redispatch",
                "schedule": 60.0,
                "options": {"expires": 240.0},
            },
            # Webhook events whose processing task was lost (a Redis restart) are applied here.
            "apply-unapplied-events": {
                "task": "mailer.tasks.events.sweep",
                "schedule": 60.0,
                "options": {"expires": 240.0},
            },
        },
    )
    return app


celery_app = make_celery(worker_settings())
