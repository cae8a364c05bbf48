"""Many status changes at once: decided in memory in order, written with one executemany each.

Same outcome as calling `suppress` / `unsubscribe_everywhere` once per change in that order
(status.py's rank rule, `unsubscribed_at` kept once set), without two round trips per change.
The written UPDATE re-checks the rank rule in SQL, so a concurrent stronger change committed
since the statuses were read is never overwritten.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Table, and_, bindparam, case, func, or_
from sqlalchemy.orm import Session

from subscribers.models import Membership, MembershipStatus, Status, Subscriber
from subscribers.status import RANK, may_change
from subscribers.types import UTCDateTime


@dataclass(slots=True)
class StatusBatch:
    """`current`: every involved subscriber's status as read in this transaction."""

    current: dict[int, str]
    _changes: dict[int, dict[str, Any]] = field(default_factory=dict)
    _leaves: dict[int, dict[str, Any]] = field(default_factory=dict)

    def change(self, subscriber_id: int, status: Status, reason: str, when: datetime) -> bool:
        """One change, as `_set_status` would make it now; True if it changes the status."""
        current = self.current.get(subscriber_id)
        if current is None or not may_change(Status(current), status):
            return False
        self.current[subscriber_id] = status
        entry = self._changes.setdefault(subscriber_id, {"b_id": subscriber_id, "b_unsub": None})
        entry.update(b_status=status.value, b_rank=RANK[status], b_reason=reason, b_when=when)
        if status == Status.UNSUBSCRIBED:
            entry["b_unsub"] = when
        return True

    def leave_all_lists(self, subscriber_id: int, source: str, when: datetime) -> None:
        """Every membership left; only the first call per person changes anything."""
        self._leaves.setdefault(
            subscriber_id, {"b_id": subscriber_id, "b_src": source, "b_when": when}
        )

    def write(self, session: Session) -> None:
        # Sorted by id: concurrent writers lock rows in the same order and cannot deadlock.
        if self._changes:
            session.execute(_UPDATE_STATUS, [self._changes[k] for k in sorted(self._changes)])
        if self._leaves:
            session.execute(_LEAVE_ALL, [self._leaves[k] for k in sorted(self._leaves)])


def _status_update() -> Any:
    table = Subscriber.__table__
    assert isinstance(table, Table)
    rank = case({s.value: r for s, r in RANK.items()}, value=table.c.status, else_=0)
    unsub = bindparam("b_unsub", type_=UTCDateTime)
    return (
        table.update()
        .where(
            table.c.id == bindparam("b_id"),
            or_(table.c.status == Status.ACTIVE.value, rank < bindparam("b_rank")),
        )
        .values(
            status=bindparam("b_status"),
            status_reason=bindparam("b_reason"),
            updated_at=bindparam("b_when", type_=UTCDateTime),
            unsubscribed_at=func.coalesce(unsub, table.c.unsubscribed_at),
        )
    )


def _leave_all() -> Any:
    table = Membership.__table__
    assert isinstance(table, Table)
    return (
        table.update()
        .where(
            and_(
                table.c.subscriber_id == bindparam("b_id"),
                table.c.status != MembershipStatus.UNSUBSCRIBED.value,
            )
        )
        .values(
            status=MembershipStatus.UNSUBSCRIBED.value,
            unsubscribed_at=bindparam("b_when", type_=UTCDateTime),
            unsubscribe_source=bindparam("b_src"),
        )
    )


_UPDATE_STATUS = _status_update()
_LEAVE_ALL = _leave_all()
