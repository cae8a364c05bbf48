"""Send, batch, recipient, webhook-event and forward tables (the mailer's own state)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
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
    # Why the stored Markdown does not parse ("markdown:LINE: ..."); the rendering above is
    # then the last one that worked. NULL: it parses, and may be test-sent and scheduled.
    parse_error: Mapped[str | None] = mapped_column(Text, nullable=True)
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
    test_to: Mapped[str | None] = mapped_column(Text, nullable=True)  # test copies: ", "-joined
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
    # Shown in the public archive although sent to a private list or a segment.
    archive_public: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # A 429 pauses the whole send, not one worker.
    throttled_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # sha256 of the rendered issue: the same issue to the same list twice needs --again.
    content_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)

    __table_args__ = (Index("ix_sends_list_content", "list_id", "content_hash"),)


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

    # No foreign keys: checking two per row was two thirds of freezing a million recipients.
    # AFTER DELETE triggers on sends and subscribers (migration 0007) keep the cascade.
    send_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(Integer, primary_key=True)
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
    # The batch (custom_arg nl_batch) whose request SendGrid accepted: settles uncertain ones.
    batch_seq: Mapped[int | None] = mapped_column(Integer, nullable=True)

    __table_args__ = (
        # email too: a report counts distinct addresses per kind from the index alone.
        Index("ix_events_send", "send_id", "event", "email"),
        Index("ix_events_batch", "send_id", "batch_seq"),
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


class Heartbeat(Base):
    """A process that proves it is alive: each worker, and the scheduler's periodic check.

    In the database rather than Redis so that it also means something without REDIS_URL (the
    in-process scheduler loop beats; there are no workers) and `status` can read it anywhere."""

    __tablename__ = "heartbeats"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)  # "scheduler", w1@host
    role: Mapped[str] = mapped_column(String(16))  # scheduler | worker
    host: Mapped[str] = mapped_column(String(200), default="")
    pid: Mapped[int] = mapped_column(Integer, default=0)
    detail: Mapped[str] = mapped_column(String(500), default="")  # a worker's queues
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ForwardRecipient(Base):
    """One copy per friend per issue, whoever forwards it; the address only as a keyed hash."""

    __tablename__ = "forward_recipients"

    send_id: Mapped[int] = mapped_column(
        ForeignKey("sends.id", ondelete="CASCADE"), primary_key=True
    )
    friend_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AddressSuppression(Base):
    """An address that is not a subscriber (a forwarded-to friend) and must not be mailed again."""

    __tablename__ = "address_suppressions"

    address_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    reason: Mapped[str] = mapped_column(String(32))  # bounce | complaint | unsubscribe
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OutboxKind(enum.StrEnum):
    FORWARD = "forward"
    CONFIRM = "confirm"


class OutboxMessage(Base):
    """A single message written before it is queued, re-queued by the scheduler until sent,
    so a lost queue (a Redis restart) loses no mail. A friend's address is blanked once sent."""

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    send_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    args: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (
        Index("ix_outbox_messages_unsent", "sent_at", "created_at"),
        Index("ix_outbox_messages_send", "send_id", "kind"),
    )
