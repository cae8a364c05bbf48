"""POST /webhooks/sendgrid: verify the signature, store the events, answer fast.

Refusals: 413 oversized body, 401 no key configured or missing headers, 403 stale timestamp or a
signature that does not verify (whatever the sendgrid helper raises), 400 a body that is not a
JSON array of well-formed events (nothing stored). Processing (the policy) runs on the `events`
Celery queue; without REDIS_URL it runs in-process right after the answer is sent.
"""

from __future__ import annotations

import logging
import time

from fastapi import APIRouter, BackgroundTasks, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sendgrid.helpers.eventwebhook import EventWebhookHeader
from sqlalchemy import Engine

from mailer.core.settings import Settings
from mailer.events.intake import (
    BadBatch,
    StoredPost,
    WebhookRefused,
    parse_batch,
    store_post,
    verify,
)
from mailer.events.processing import apply_post, policy_config
from subscribers.db import make_engine
from subscribers.models import utcnow

router = APIRouter()
log = logging.getLogger(__name__)


class _TooLarge(Exception):
    pass


def app_engine(request: Request) -> Engine:
    """The app's engine (the web app may have put one on app.state already)."""
    engine: Engine | None = getattr(request.app.state, "engine", None)
    if engine is None:
        engine = make_engine(request.app.state.settings.DATABASE_URL)
        request.app.state.engine = engine
    return engine


async def _read_body(request: Request, limit: int) -> bytes:
    """The raw body, byte for byte (the signature covers it), refused past `limit` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _TooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _check_and_store(
    settings: Settings, engine: Engine, body: bytes, sig: str | None, ts: str | None
) -> StoredPost:
    if settings.SENDGRID_WEBHOOK_PUBLIC_KEY is not None or not settings.SENDGRID_WEBHOOK_INSECURE:
        verify(
            settings.SENDGRID_WEBHOOK_PUBLIC_KEY,
            body,
            sig,
            ts,
            time.time(),
            settings.WEBHOOK_MAX_AGE_SECONDS,
        )
    events = parse_batch(body)
    return store_post(engine, body.decode("utf-8"), events, utcnow(), settings.SECRET_KEY)


@router.post("/webhooks/sendgrid")
async def sendgrid_events(request: Request, background: BackgroundTasks) -> Response:
    settings: Settings = request.app.state.settings
    try:
        body = await _read_body(request, settings.WEBHOOK_MAX_BODY_BYTES)
    except _TooLarge:
        return JSONResponse({"error": "body too large"}, status_code=413)
    signature = request.headers.get(EventWebhookHeader.SIGNATURE)
    timestamp = request.headers.get(EventWebhookHeader.TIMESTAMP)
    engine = app_engine(request)
    try:
        stored = await run_in_threadpool(
            _check_and_store, settings, engine, body, signature, timestamp
        )
    except WebhookRefused as refused:
        log.warning("webhook post refused (%d): %s", refused.status, refused.reason)
        return JSONResponse({"error": refused.reason}, status_code=refused.status)
    except (BadBatch, UnicodeDecodeError) as bad:
        return JSONResponse({"error": str(bad)}, status_code=400)
    _enqueue(settings, engine, stored.post_id, background)
    return JSONResponse({"received": stored.received, "new": stored.new})


def _enqueue(settings: Settings, engine: Engine, post_id: int, background: BackgroundTasks) -> None:
    if settings.REDIS_URL is None:
        # Eager mode: same work as the task, after the answer has gone out.
        background.add_task(apply_post, engine, post_id, policy_config(settings), utcnow())
        return
    from mailer.tasks.events import process_post

    # Failing here answers 500, so SendGrid retries; the retry's task applies what this stored.
    process_post.delay(post_id)
