"""The append-only audit log: every write through the API, the pages or the CLI."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.accounts.models import AuditEntry
from mailer.accounts.principal import Principal


def record(
    session: Session, actor: Principal, action: str, obj: str = "", detail: str = ""
) -> None:
    """Add one entry in the caller's transaction, so the entry and the write commit together."""
    session.add(
        AuditEntry(
            actor_kind=actor.kind,
            actor=actor.name,
            action=action,
            object=obj[:200],
            detail=detail,
            ip=actor.ip,
        )
    )


@dataclass(frozen=True, slots=True)
class AuditLine:
    at: datetime
    actor_kind: str
    actor: str
    action: str
    object: str
    detail: str
    ip: str | None


def entries(session: Session, since: datetime | None = None, limit: int = 1000) -> list[AuditLine]:
    """The newest `limit` entries at or after `since`, oldest first."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    rows = list(session.scalars(query))
    return [
        AuditLine(r.at, r.actor_kind, r.actor, r.action, r.object, r.detail, r.ip)
        for r in reversed(rows)
    ]
