"""Subscriber, list and membership tables."""

from __future__ import annotations

import enum
import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from subscribers.db import Base
from subscribers.types import JSONDict, UTCDateTime


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_link_key() -> int:
    """A random per-subscriber key the reader's links are bound to (never 0, fits INTEGER)."""
    return secrets.randbelow(2**31 - 2) + 1


class Status(enum.StrEnum):
    """A subscriber's global state; only `active` people are ever mailed."""

    ACTIVE = "active"
    PENDING = "pending"
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"
    COMPLAINED = "complained"


SUPPRESSED = frozenset({Status.UNSUBSCRIBED, Status.BOUNCED, Status.COMPLAINED})


class MembershipStatus(enum.StrEnum):
    SUBSCRIBED = "subscribed"
    UNSUBSCRIBED = "unsubscribed"
    PENDING = "pending"


class Subscriber(Base):
    __tablename__ = "subscribers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320))  # as given
    email_norm: Mapped[str] = mapped_column(String(320), unique=True)  # lower-cased for lookups
    name: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), default=Status.ACTIVE, index=True)
    timezone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    attrs: Mapped[dict[str, Any]] = mapped_column(JSONDict, default=dict)
    consent_source: Mapped[str | None] = mapped_column(String(64), nullable=True)
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    consent_ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    status_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    bounce_count: Mapped[int] = mapped_column(Integer, default=0)
    soft_bounce_count: Mapped[int] = mapped_column(Integer, default=0)
    last_bounce_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Referral credit: who forwarded the issue that brought this person in.
    referred_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("subscribers.id", ondelete="SET NULL"), nullable=True
    )
    referred_send_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    confirm_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Links carry this key: a deleted reader's links die even if the database reuses the id.
    link_key: Mapped[int] = mapped_column(Integer, default=new_link_key)

    tags: Mapped[list[SubscriberTag]] = relationship(
        back_populates="subscriber",
        cascade="all, delete-orphan",
        lazy="selectin",
        primaryjoin="Subscriber.id == foreign(SubscriberTag.subscriber_id)",
    )
    memberships: Mapped[list[Membership]] = relationship(
        back_populates="subscriber",
        cascade="all, delete-orphan",
        primaryjoin="Subscriber.id == foreign(Membership.subscriber_id)",
    )

    @property
    def tag_names(self) -> list[str]:
        return sorted(t.tag for t in self.tags)

    # Reports look up the few people a send or a reader referred or who left since a send:
    # partial indexes hold only those rows, so a million subscribers cost no full scan, little
    # space, and an import no index entry per person (migration 0012).
    __table_args__ = (
        Index(
            "ix_subscribers_referred_by_id",
            "referred_by_id",
            sqlite_where=text("referred_by_id IS NOT NULL"),
            postgresql_where=text("referred_by_id IS NOT NULL"),
        ),
        Index(
            "ix_subscribers_referred_send",
            "referred_send_id",
            sqlite_where=text("referred_send_id IS NOT NULL"),
            postgresql_where=text("referred_send_id IS NOT NULL"),
        ),
        Index(
            "ix_subscribers_unsubscribed_at",
            "unsubscribed_at",
            sqlite_where=text("unsubscribed_at IS NOT NULL"),
            postgresql_where=text("unsubscribed_at IS NOT NULL"),
        ),
    )


class SubscriberTag(Base):
    """One row per tag, so `tags has "x"` is an indexed lookup on any database."""

    __tablename__ = "subscriber_tags"

    # No foreign key (like memberships): AFTER DELETE triggers (migration 0010) keep the cascade.
    subscriber_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tag: Mapped[str] = mapped_column(String(100), primary_key=True)  # stored lower-cased

    subscriber: Mapped[Subscriber] = relationship(
        back_populates="tags", primaryjoin="foreign(SubscriberTag.subscriber_id) == Subscriber.id"
    )

    __table_args__ = (Index("ix_subscriber_tags_tag", "tag", "subscriber_id"),)


class MailingList(Base):
    __tablename__ = "lists"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    # What readers see (the name is the editors' handle); a private list never shows on
    # /subscribe, /p or the public archive.
    title: Mapped[str] = mapped_column(String(200), default="", server_default="")
    public: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Membership(Base):
    """A person's own state on one list, so leaving one list keeps the others."""

    __tablename__ = "memberships"

    # No foreign keys: checking them was most of inserting a million memberships on PostgreSQL.
    # AFTER DELETE triggers on subscribers and lists (migration 0010) keep the cascade.
    list_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default=MembershipStatus.SUBSCRIBED)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    unsubscribe_source: Mapped[str | None] = mapped_column(String(32), nullable=True)

    subscriber: Mapped[Subscriber] = relationship(
        back_populates="memberships",
        primaryjoin="foreign(Membership.subscriber_id) == Subscriber.id",
    )
    mailing_list: Mapped[MailingList] = relationship(
        primaryjoin="foreign(Membership.list_id) == MailingList.id"
    )

    __table_args__ = (
        Index("ix_memberships_subscriber", "subscriber_id", "list_id"),
        Index(
            "ix_memberships_left",
            "list_id",
            "unsubscribed_at",
            sqlite_where=text("unsubscribed_at IS NOT NULL"),
            postgresql_where=text("unsubscribed_at IS NOT NULL"),
        ),
    )
