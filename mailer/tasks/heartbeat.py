"""Each Celery worker records a heartbeat every HEARTBEAT_SECONDS while it runs.

A thread of the worker's main process writes it (the process that consumes from Redis), from
`worker_ready` until `worker_shutdown`, which removes the row: a clean stop is not a stale
worker. A worker killed or hung leaves a row that goes stale (mailer.ops.liveness).
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime
from typing import Any

from celery.signals import worker_ready, worker_shutdown

from mailer.ops import liveness
from mailer.tasks.app import worker_settings
from subscribers.db import make_engine

log = logging.getLogger(__name__)
_stop = threading.Event()
_threads: list[threading.Thread] = []


def _queues(consumer: Any) -> str:
    try:
        return ",".join(sorted(queue.name for queue in consumer.task_consumer.queues))
    except AttributeError:  # not a full consumer (a test double, a future Celery)
        return ""


def _beat_until_stopped(name: str, detail: str) -> None:
    cfg = worker_settings()
    engine = make_engine(cfg.DATABASE_URL)
    while True:
        try:
            liveness.beat(engine, name, liveness.WORKER, datetime.now(UTC), detail)
        except Exception:  # a database hiccup must not kill the worker; the row goes stale
            log.exception("could not record the heartbeat of %s", name)
        if _stop.wait(cfg.HEARTBEAT_SECONDS):
            break
    try:
        liveness.forget(engine, name)
    finally:
        engine.dispose()


@worker_ready.connect
def _start(sender: Any = None, **_: Any) -> None:
    name = str(getattr(sender, "hostname", "") or "worker")
    thread = threading.Thread(
        target=_beat_until_stopped, args=(name, _queues(sender)), name="heartbeat", daemon=True
    )
    thread.start()
    _threads.append(thread)


@worker_shutdown.connect
def _stop_beating(**_: Any) -> None:
    """Wait (briefly) for the thread to remove the row before the process exits."""
    _stop.set()
    for thread in _threads:
        thread.join(timeout=5.0)
