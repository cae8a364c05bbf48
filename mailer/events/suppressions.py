"""Bring SendGrid's global suppression lists in: bounces, spam reports, global unsubscribes.

Each entry found for a local subscriber goes through subscribers/status.py, so a sync never
lowers a status (a complaint stays a complaint) and running it twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import Engine, select

from subscribers.db import transaction
from subscribers.models import Status, Subscriber
from subscribers.status import suppress, unsubscribe_everywhere

KINDS = ("bounces", "spam_reports", "unsubscribes")
_CHUNK = 500


class SuppressionSource(Protocol):
    """What the sync needs from a transport: SendGridTransport.suppressions(kind)."""

    def suppressions(self, kind: str) -> list[dict[str, Any]]: ...


@dataclass(slots=True)
class KindResult:
    fetched: int = 0  # entries on SendGrid's list
    matched: int = 0  # of those, addresses we know
    changed: int = 0  # subscribers whose status changed


def _when(entry: dict[str, Any], now: datetime) -> datetime:
    created = entry.get("created")
    if isinstance(created, int | float) and created > 0:
        return datetime.fromtimestamp(created, UTC)
    return now


def _apply(
    session: Any, kind: str, subscriber_id: int, entry: dict[str, Any], now: datetime
) -> bool:
    when = _when(entry, now)
    if kind == "bounces":
        reason = str(entry.get("reason") or "on SendGrid's bounce list")
        return suppress(
            session, subscriber_id, Status.BOUNCED, f"sendgrid sync: {reason}"[:200], when
        )
    if kind == "spam_reports":
        return suppress(
            session, subscriber_id, Status.COMPLAINED, "sendgrid sync: spam report", when
        )
    return unsubscribe_everywhere(session, subscriber_id, "sendgrid:sync", when)


def _chunks(entries: Sequence[dict[str, Any]]) -> Iterable[Sequence[dict[str, Any]]]:
    for start in range(0, len(entries), _CHUNK):
        yield entries[start : start + _CHUNK]


def apply_entries(
    engine: Engine, kind: str, entries: list[dict[str, Any]], now: datetime
) -> KindResult:
    """Apply one list's entries to the subscribers we have; unknown addresses are counted only."""
    result = KindResult(fetched=len(entries))
    for chunk in _chunks(entries):
        by_email = {str(e.get("email", "")).strip().lower(): e for e in chunk if e.get("email")}
        with transaction(engine) as session:
            found = session.execute(
                select(Subscriber.id, Subscriber.email_norm).where(
                    Subscriber.email_norm.in_(sorted(by_email))
                )
            ).all()
            for subscriber_id, email in sorted(found):
                result.matched += 1
                result.changed += _apply(session, kind, subscriber_id, by_email[email], now)
    return result


def sync(engine: Engine, source: SuppressionSource, now: datetime) -> dict[str, KindResult]:
    """Pull all three lists (TransportError propagates: nothing half-reported)."""
    return {kind: apply_entries(engine, kind, source.suppressions(kind), now) for kind in KINDS}
