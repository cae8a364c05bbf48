"""Send, batch, recipient, webhook-event and forward tables (the mailer's own state)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from subscribers.db import Base
from subscribers.models import utcnow
from subscribers.types import JSONDict, UTCDateTime


class SendState(enum.StrEnum):
    SCHEDULED = "scheduled"
    SENDING = "sending"
    PAUSED = "paused"
    CANCELLED = "cancelled"
    DONE = "done"
    FAILED = "failed"


class BatchState(enum.StrEnum):
    PENDING = "pending"
    CLAIMED = "claimed"
    SENT = "sent"
    FAILED = "failed"
    UNCERTAIN = "uncertain"
    SKIPPED = "skipped"  # every recipient left before the batch went out
    CANCELLED = "cancelled"


class RecipientState(enum.StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    SKIPPED = "skipped"
    FAILED = "failed"
    UNCERTAIN = "uncertain"
    CANCELLED = "cancelled"


class StoredIssue(Base):
    """An issue as editors keep it (a draft): its Markdown and the rendering made on save."""

    __tablename__ = "issues"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    markdown: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(String(500))
    preheader: Mapped[str] = mapped_column(String(500), default="")
    slug: Mapped[str] = mapped_column(String(200))
    issue_date: Mapped[str | None] = mapped_column(String(10), nullable=True)
    html: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    warnings: Mapped[list[str]] = mapped_column(JSONDict, default=list)
    size_bytes: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)  # optimistic concurrency
    source_path: Mapped[str] = mapped_column(String(1000), default="")
    created_by: Mapped[str] = mapped_column(String(320), default="")
    updated_by: Mapped[str] = mapped_column(String(320), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Send(Base):
    """One issue sent to one list (optionally a segment); the rendered body is frozen here."""

    __tablename__ = "sends"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), index=True)
    subject: Mapped[str] = mapped_column(String(500))
    preheader: Mapped[str] = mapped_column(String(500), default="")
    issue_date: Mapped[str | None] = mapped_column(String(10), nullable=True)
    source_path: Mapped[str] = mapped_column(String(1000), default="")
    html: Mapped[str] = mapped_column(Text)  # with per-recipient substitution tags
    text: Mapped[str] = mapped_column(Text)
    web_html: Mapped[str] = mapped_column(Text, default="")  # archive copy: no personal links
    list_id: Mapped[int | None] = mapped_column(ForeignKey("lists.id"), nullable=True)
    # The stored issue it was made from; the body above stays frozen even if the draft changes.
    issue_id: Mapped[int | None] = mapped_column(
        ForeignKey("issues.id", ondelete="SET NULL"), nullable=True, index=True
    )
    segment: Mapped[str | None] = mapped_column(Text, nullable=True)
    test_to: Mapped[str | None] = mapped_column(String(320), nullable=True)
    state: Mapped[str] = mapped_column(String(16), default=SendState.SCHEDULED, index=True)
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    local_time: Mapped[bool] = mapped_column(Boolean, default=False)
    wall_time: Mapped[str | None] = mapped_column(String(32), nullable=True)  # for --local-time
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    planned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    max_subscriber_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    total_recipients: Mapped[int] = mapped_column(Integer, default=0)
    archived: Mapped[bool] = mapped_column(Boolean, default=True)
    # A 429 pauses the whole send, not one worker.
    throttled_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class Batch(Base):
    """At most 1000 recipients, one request; its state is the exactly-once record."""

    __tablename__ = "send_batches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    send_id: Mapped[int] = mapped_column(ForeignKey("sends.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), default=BatchState.PENDING)
    timezone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Set just before the HTTP request: a stale claim without it was never sent (safe to retry);
    # a stale claim with it may have reached SendGrid (uncertain).
    requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    message_id: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    recipient_count: Mapped[int] = mapped_column(Integer, default=0)
    sent_count: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (
        UniqueConstraint("send_id", "seq", name="uq_send_batches_send_seq"),
        Index("ix_send_batches_state", "send_id", "state"),
    )


class SendRecipient(Base):
    """The frozen audience: who is in which batch, and what became of them."""

    __tablename__ = "send_recipients"

    send_id: Mapped[int] = mapped_column(
        ForeignKey("sends.id", ondelete="CASCADE"), primary_key=True
    )
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), primary_key=True
    )
    batch_seq: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), default=RecipientState.QUEUED)

    __table_args__ = (Index("ix_send_recipients_batch", "send_id", "batch_seq"),)


class WebhookPost(Base):
    """One Event Webhook POST exactly as received (record first, judge later)."""

    __tablename__ = "webhook_posts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    body: Mapped[str] = mapped_column(Text)
    event_count: Mapped[int] = mapped_column(Integer, default=0)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class Event(Base):
    """One delivery or engagement event, deduplicated on SendGrid's `sg_event_id`."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    sg_event_id: Mapped[str] = mapped_column(String(100), unique=True)
    post_id: Mapped[int | None] = mapped_column(
        ForeignKey("webhook_posts.id", ondelete="SET NULL"), nullable=True
    )
    event: Mapped[str] = mapped_column(String(32))
    email: Mapped[str] = mapped_column(String(320), index=True)
    subscriber_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    send_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    bounce_type: Mapped[str | None] = mapped_column(String(32), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    url: Mapped[str | None] = mapped_column(Text, nullable=True)
    sg_message_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSONDict, default=dict)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        Index("ix_events_send", "send_id", "event"),
        Index("ix_events_unapplied", "applied_at"),
    )


class Forward(Base):
    """A reader forwarded an issue: counts only, friends' addresses are never kept."""

    __tablename__ = "forwards"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    send_id: Mapped[int | None] = mapped_column(
        ForeignKey("sends.id", ondelete="SET NULL"), nullable=True, index=True
    )
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), index=True
    )
    friend_count: Mapped[int] = mapped_column(Integer)
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
