"""Celery tasks of the sends queue: thin wrappers that carry ids and call mailer.sending.pipeline.

Celery is the transport for work, not the truth: every task reads the state from the
database and is safe to run twice (acks_late + reject_on_worker_lost are set on the app).
`dispatch_due` runs every SCHEDULER_INTERVAL_SECONDS from `newsletter scheduler` (beat): it
starts due sends, reaps claims of dead workers, and re-dispatches sends whose queued tasks
were lost, so nothing depends on a Celery message surviving.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from celery.signals import worker_shutting_down

from mailer.core.database import settings_engine
from mailer.core.settings import Settings
from mailer.events.settle import settle_uncertain
from mailer.ops import liveness
from mailer.sending import batch_repair, pipeline
from mailer.sending import state as sends
from mailer.sending.pipeline import Runtime
from mailer.sending.plan import RetryPolicy
from mailer.sending.ratelimit import make_limiter
from mailer.tasks.app import celery_app, worker_settings
from mailer.transport.factory import make_transport

log = logging.getLogger(__name__)
# Waits this short are handed to Celery as a countdown; longer ones to the periodic dispatcher
# (long ETAs are redelivered by Redis after its visibility timeout, which duplicates them).
SHORT_WAIT = 20.0
_shutting_down = threading.Event()


@worker_shutting_down.connect
def _on_shutdown(**_: Any) -> None:
    """Warm shutdown (SIGTERM): the runner finishes its batch in hand and claims no more."""
    _shutting_down.set()


@lru_cache(maxsize=1)
def runtime() -> Runtime:
    """Built lazily in the process that runs tasks (after any fork), once."""
    settings = worker_settings()
    return Runtime(
        engine=settings_engine(settings),
        transport=make_transport(settings),
        settings=settings,
        limiter=make_limiter(settings.SEND_RATE_PER_SECOND, settings.REDIS_URL),
        retry=RetryPolicy(settings.SEND_RETRY_BASE_SECONDS, settings.SEND_RETRY_MAX_SECONDS),
        stopping=_shutting_down.is_set,
    )


def now() -> datetime:
    return datetime.now(UTC)


def kick(send_id: int, settings: Settings) -> None:
    """Queue runners for a send; extra ones find nothing to claim and return at once."""
    for _ in range(1 if settings.REDIS_URL is None else settings.SEND_PARALLELISM):
        send_batches.delay(send_id)


@celery_app.task(name="mailer.tasks.sending.start_send")
def start_send(send_id: int) -> int | None:
    """scheduled -> sending (exactly once) and freeze the audience; then queue the runners."""
    rt = runtime()
    freeze = sends.start_send(
        rt.engine,
        send_id,
        now(),
        rt.settings.SEND_BATCH_SIZE,
        rt.settings.NEWSLETTER_TIMEZONE,
    )
    if freeze is None:
        return None
    log.info(
        "send %s started: %s recipients in %s batches", send_id, freeze.recipients, freeze.batches
    )
    if freeze.batches == 0:
        sends.finish_if_complete(rt.engine, send_id, now())
    else:
        kick(send_id, rt.settings)  # the freeze ends here: the first batch can be claimed
    sends.refresh_statistics(rt.engine)
    return freeze.recipients


@celery_app.task(name="mailer.tasks.sending.send_batches")
def send_batches(send_id: int) -> int:
    """Deliver a batch of one send (eagerly: all of them), and queue the runner's next turn."""
    rt = runtime()
    if rt.settings.REDIS_URL is not None:
        result = pipeline.run_send(rt, send_id, max_batches=1)
        if result.wait is not None and result.wait <= SHORT_WAIT:
            # Re-queued even while shutting down: Redis holds it for another (or the next) worker.
            send_batches.apply_async((send_id,), countdown=result.wait)
        return result.batches
    result = pipeline.run_send(rt, send_id)
    done = result.batches
    # Eager mode has no broker to hold a countdown: wait here, then carry on.
    while result.wait is not None and result.wait <= SHORT_WAIT:
        time.sleep(result.wait)
        result = pipeline.run_send(rt, send_id)
        done += result.batches
    return done


@celery_app.task(name="mailer.tasks.sending.dispatch_due")
def dispatch_due() -> dict[str, int]:
    """The periodic check: start due sends, reap dead claims, re-dispatch stalled sends."""
    rt = runtime()
    liveness.beat(rt.engine, liveness.SCHEDULER, liveness.SCHEDULER, now(), "periodic check")
    liveness.forget_old(rt.engine, now())
    lease = rt.settings.batch_lease_seconds
    released, uncertain = batch_repair.reap_stale(rt.engine, now(), lease)
    settled = settle_uncertain(rt.engine, rt.settings, now())
    for send_id in sorted(settled.reopened):
        kick(send_id, rt.settings)
    started = 0
    for send_id in sends.due_sends(rt.engine, now()):
        started += start_send(send_id) is not None
    redispatched = 0
    quiet = 2 * rt.settings.SCHEDULER_INTERVAL_SECONDS
    for send_id in sends.sending_sends(rt.engine):
        if sends.finish_if_complete(rt.engine, send_id, now()):
            continue
        if sends.stalled(rt.engine, send_id, now(), quiet):
            kick(send_id, rt.settings)
            redispatched += 1
    return {
        "started": started,
        "released": released,
        "uncertain": uncertain,
        "settled_sent": settled.sent,
        "settled_resent": settled.resent,
        "redispatched": redispatched,
    }
