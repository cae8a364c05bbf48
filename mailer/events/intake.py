"""Event Webhook intake: verify the signature, validate the whole batch, store it in one go.

Record first, judge later: this module only checks and keeps what SendGrid sent; `policy.py`
decides what the events mean for each subscriber, in a separate, re-runnable step.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
)
from sqlalchemy import Engine, Insert, insert
from sqlalchemy.dialects import sqlite

from mailer.core.bulk_sql import insert_events_pg
from mailer.core.errors import NewsletterError
from mailer.core.models import Event, WebhookPost
from mailer.core.privacy import HASH_PREFIX, address_hash

if TYPE_CHECKING:
    from sendgrid.helpers.eventwebhook import EventWebhook

log = logging.getLogger(__name__)

# Timestamps above this are milliseconds (one Single Send example in SendGrid's docs uses them).
_MS_THRESHOLD = 100_000_000_000
_CHUNK = 1000
_LATEST = 253_402_300_799  # 9999-12-31T23:59:59Z, the last second a datetime holds


class WebhookRefused(Exception):
    """The post is not provably from SendGrid; `status` is 401 (no credentials) or 403."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class BadBatch(NewsletterError):
    """The body is not a JSON array of well-formed events; says which event and field."""


def _id_or_none(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    if isinstance(value, str) and value.isdigit() and len(value) < 19:
        return int(value)
    return None


OptionalId = Annotated[int | None, BeforeValidator(_id_or_none)]


def _seq_or_none(value: object) -> int | None:
    """A batch number: 0 counts (the first batch), unlike an id."""
    if (type(value) is int and value == 0) or value == "0":
        return 0
    return _id_or_none(value)


OptionalSeq = Annotated[int | None, BeforeValidator(_seq_or_none)]


class WebhookEvent(BaseModel):
    """One event as SendGrid posts it; custom_args arrive flattened to the top level."""

    model_config = ConfigDict(extra="allow", frozen=True)

    email: str = Field(max_length=320)
    event: str = Field(min_length=1, max_length=32)
    sg_event_id: str = Field(min_length=1, max_length=100)
    timestamp: int
    sg_message_id: str | None = Field(default=None, max_length=200)
    type: str | None = Field(default=None, max_length=32)
    reason: str | None = None
    status: str | None = None
    url: str | None = None
    # Our custom_args: strings on the wire. Anything but digits (a test copy's "None", say)
    # just means "unknown": correlation falls back to the address, the batch is not refused.
    nl_send_id: OptionalId = None
    nl_subscriber_id: OptionalId = None
    nl_list_id: OptionalId = None
    nl_batch: OptionalSeq = None

    @property
    def occurred_at(self) -> datetime | None:
        """None when the timestamp is no time at all (negative, or past year 9999)."""
        seconds = self.timestamp / 1000 if self.timestamp > _MS_THRESHOLD else self.timestamp
        if not 0 <= seconds <= _LATEST:
            return None
        return datetime.fromtimestamp(seconds, UTC)


_BATCH = TypeAdapter(list[WebhookEvent])


@dataclass(frozen=True, slots=True)
class StoredPost:
    post_id: int
    received: int
    new: int


# --- verification -------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _verifier(public_key: str) -> EventWebhook:
    """Parsing the key costs more than checking a signature, so keep it."""
    # Imported here: a worker applies stored events but never verifies one, and the verifier
    # brings cryptography (~9 MB resident) with it.
    from sendgrid.helpers.eventwebhook import EventWebhook

    return EventWebhook(public_key)


def verify(
    public_key: str | None,
    body: bytes,
    signature: str | None,
    timestamp: str | None,
    now: float,
    max_age: int,
) -> None:
    """Raise WebhookRefused unless SendGrid signed timestamp + body recently; `max_age` <= 0
    turns the replay window off."""
    if public_key is None:
        raise WebhookRefused(401, "no SENDGRID_WEBHOOK_PUBLIC_KEY configured")
    if not signature or not timestamp:
        raise WebhookRefused(401, "missing signature or timestamp header")
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise WebhookRefused(403, "timestamp header is not a number") from None
    if max_age > 0 and abs(now - sent_at) > max_age:
        raise WebhookRefused(403, f"timestamp outside the {max_age}s replay window")
    try:
        verifier = _verifier(public_key)
    except Exception as exc:  # any failure to load the key: we cannot vouch for the post
        log.error("SENDGRID_WEBHOOK_PUBLIC_KEY is unusable: %s", exc)
        raise WebhookRefused(401, "webhook key is unusable") from exc
    try:
        ok = verifier.verify_signature(body.decode("utf-8"), signature, timestamp)
    except Exception as exc:  # binascii.Error, ValueError, TypeError, cryptography errors ...
        raise WebhookRefused(403, f"signature unreadable ({type(exc).__name__})") from exc
    if not ok:
        raise WebhookRefused(403, "signature does not match")


# --- parsing ------------------------------------------------------------------------------


def parse_batch(body: bytes) -> list[WebhookEvent]:
    """Validate the whole array before anything is stored; the error names event and field."""
    try:
        return _BATCH.validate_json(body)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        count = exc.error_count()
        more = f" (and {count - 1} more)" if count > 1 else ""
        raise BadBatch(f"event batch: {where or 'body'}: {first['msg']}{more}") from None


def event_row(
    event: WebhookEvent, post_id: int, received_at: datetime, secret_key: str | None = None
) -> dict[str, Any]:
    """The `events` row of one event; everything without a column of its own goes in `data`.

    An event whose timestamp is no time at all is kept, dated when it arrived, with the bad
    value in `data`: refusing it would make SendGrid retry the whole batch forever."""
    data: dict[str, Any] = dict(event.model_extra or {})
    occurred_at = event.occurred_at
    if occurred_at is None:
        data["bad_timestamp"] = event.timestamp
        occurred_at = received_at
    if event.status is not None:
        data["status"] = event.status
    if event.nl_list_id is not None:
        data["nl_list_id"] = event.nl_list_id
    row = {
        "sg_event_id": event.sg_event_id,
        "post_id": post_id,
        "event": event.event,
        "email": stored_email(event.email, data, secret_key),
        "subscriber_id": event.nl_subscriber_id,
        "send_id": event.nl_send_id,
        "occurred_at": occurred_at,
        "bounce_type": event.type,
        "reason": event.reason,
        "url": event.url,
        "sg_message_id": event.sg_message_id,
        "data": data,
        "batch_seq": event.nl_batch,
    }
    # PostgreSQL stores no NUL in text or JSON: an event carrying one is kept, with U+FFFD.
    return {key: _without_nul(value) for key, value in row.items()}


def _without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_nul(item) for item in value]
    return value


def stored_email(email: str, data: dict[str, Any], secret_key: str | None) -> str:
    """A forwarded copy's address is a friend's, which we promise not to keep: its keyed hash."""
    if secret_key is not None and data.get("nl_kind") == "forward":
        return HASH_PREFIX + address_hash(secret_key, email)
    return email.strip().lower()


def redacted_body(body: str, secret_key: str | None) -> str:
    """The post as stored: every forwarded copy's address replaced by its keyed hash."""
    if secret_key is None or '"forward"' not in body:
        return body  # the usual post: kept byte for byte
    items = json.loads(body)
    for item in items:
        if isinstance(item, dict) and item.get("nl_kind") == "forward":
            item["email"] = stored_email(str(item.get("email", "")), item, secret_key)
    return json.dumps(items, separators=(",", ":"), ensure_ascii=False)


# --- storage ------------------------------------------------------------------------------


def _insert_ignoring_duplicates() -> Insert:
    """INSERT ... ON CONFLICT (sg_event_id) DO NOTHING: a retry or a replay adds nothing."""
    return (
        sqlite.insert(Event)
        .on_conflict_do_nothing(index_elements=["sg_event_id"])
        .returning(Event.id)
    )


def store_post(
    engine: Engine,
    body: str,
    events: list[WebhookEvent],
    now: datetime,
    secret_key: str | None = None,
) -> StoredPost:
    """Keep the post and its new events in ONE transaction: all of it or none of it.

    PostgreSQL takes the whole batch as one array-parameter statement (see bulk_sql). With
    `secret_key`, friends' addresses (forwarded copies) are stored as keyed hashes only."""
    body = redacted_body(body, secret_key)
    unique = {event.sg_event_id: event for event in events}
    # Same order in every transaction, so overlapping concurrent posts cannot deadlock.
    ordered = [unique[key] for key in sorted(unique)]
    new = 0
    with engine.begin() as conn:
        post_id = conn.execute(
            insert(WebhookPost)
            .values(received_at=now, body=body, event_count=len(events))
            .returning(WebhookPost.id)
        ).scalar_one()
        if engine.dialect.name == "postgresql":
            rows = [event_row(e, post_id, now, secret_key) for e in ordered]
            return StoredPost(post_id, len(events), insert_events_pg(conn, post_id, rows))
        statement = _insert_ignoring_duplicates()
        for start in range(0, len(ordered), _CHUNK):
            rows = [event_row(e, post_id, now, secret_key) for e in ordered[start : start + _CHUNK]]
            new += len(conn.execute(statement, rows).all())
    return StoredPost(post_id=post_id, received=len(events), new=new)


def event_ids(body: str) -> list[str]:
    """The sg_event_ids a stored post carried (it was validated when it came in)."""
    return sorted({_without_nul(e.sg_event_id) for e in parse_batch(body.encode("utf-8"))})
