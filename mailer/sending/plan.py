"""Pure batch planning: how an audience splits into batches, when each is due, retry timing.

The database layer (mailer.sending.state) counts the audience per timezone group, asks `plan_groups`
for sequence numbers and due times, then freezes recipients with one INSERT ... SELECT per group.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tenacity import wait_random_exponential
from tenacity.wait import wait_base

MAX_BATCH = 1000  # SendGrid: at most 1000 recipients (to+cc+bcc) per request
# The earliest wall clock on Earth is UTC+14 (Line Islands): a --local-time send must have frozen
# its audience before that zone's due time, so the send starts this much before the wall time.
EARLIEST_OFFSET = timedelta(hours=14)


@dataclass(frozen=True, slots=True)
class Group:
    """One timezone group of a send: batches first_seq .. first_seq + batches - 1."""

    timezone: str | None
    count: int
    first_seq: int
    batches: int
    due_at: datetime | None


def batch_count(recipients: int, size: int = MAX_BATCH) -> int:
    return math.ceil(recipients / size) if recipients > 0 else 0


def zone_or_default(name: str | None, default_zone: str) -> ZoneInfo:
    """A subscriber's zone, or the newsletter's when missing or unknown."""
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return ZoneInfo(default_zone)


def local_due_at(wall: datetime, zone_name: str | None, default_zone: str) -> datetime:
    """The UTC instant at which `wall` (naive) happens in that zone."""
    zone = zone_or_default(zone_name, default_zone)
    return wall.replace(tzinfo=zone).astimezone(UTC)


def local_start_at(wall: datetime) -> datetime:
    """When a --local-time send freezes its audience: before the earliest zone's due time."""
    return wall.replace(tzinfo=UTC) - EARLIEST_OFFSET


def plan_groups(
    counts: list[tuple[str | None, int]],
    size: int = MAX_BATCH,
    wall: datetime | None = None,
    default_zone: str = "UTC",
) -> list[Group]:
    """Number batches group after group; with a wall time each group gets its own due time."""
    groups: list[Group] = []
    seq = 0
    for zone_name, count in counts:
        batches = batch_count(count, size)
        if batches == 0:
            continue
        due = local_due_at(wall, zone_name, default_zone) if wall is not None else None
        groups.append(Group(zone_name, count, seq, batches, due))
        seq += batches
    return groups


def split_sizes(count: int) -> tuple[int, int]:
    """A 413 splits a batch into two halves (the first takes the odd one)."""
    first = (count + 1) // 2
    return first, count - first


class RetryPolicy:
    """Capped exponential backoff with full jitter (tenacity's wait), attempt 1 = first retry."""

    def __init__(self, base: float = 2.0, cap: float = 300.0) -> None:
        self._wait: wait_base = wait_random_exponential(multiplier=base, max=cap)

    def delay(self, attempt: int) -> float:
        state = _RetryState(max(1, attempt))
        return float(self._wait(state))  # type: ignore[arg-type]


@dataclass
class _RetryState:
    """The one field of tenacity's RetryCallState that its wait functions read."""

    attempt_number: int
