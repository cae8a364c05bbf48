"""When a send goes out, in words an editor can check: the newsletter's zone and UTC, and for
`--local-time` the first and last delivery moments and who is already past the wall time.

A `--local-time` wall time already past in some readers' zones would reach them at once, out of
step with everyone else; `create` refuses that unless the editor accepts it (`late_ok`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func, select

from mailer.core.errors import NewsletterError
from mailer.sending.plan import local_due_at
from subscribers.audience import audience_query
from subscribers.db import transaction


@dataclass(frozen=True, slots=True)
class Spread:
    """Delivery moments of a --local-time send over its audience's zones."""

    first: datetime
    first_zone: str
    last: datetime
    last_zone: str
    late: int  # readers whose wall time is already past: they would get it at once
    late_zones: tuple[str, ...]


def both_clocks(at: datetime, zone: str) -> str:
    """`Mon 2026-12-07 08:00 Europe/Paris (07:00 UTC)`."""
    local = at.astimezone(ZoneInfo(zone))
    utc = at.astimezone(UTC)
    same_day = local.date() == utc.date()
    utc_text = f"{utc:%H:%M} UTC" if same_day else f"{utc:%a %Y-%m-%d %H:%M} UTC"
    if zone == "UTC":
        return f"{utc:%a %Y-%m-%d %H:%M} UTC"
    return f"{local:%a %Y-%m-%d %H:%M} {zone} ({utc_text})"


def local_spread(
    engine: Engine,
    list_id: int,
    segment: str | None,
    wall: datetime,
    default_zone: str,
    now: datetime,
) -> Spread:
    """First and last delivery over the audience's zones, and how many are already late."""
    audience = audience_query(list_id, segment).subquery()
    with transaction(engine) as session:
        rows = session.execute(
            select(audience.c.timezone, func.count()).group_by(audience.c.timezone)
        ).all()
    if not rows:
        raise NewsletterError("nobody would receive this send: the audience is empty")
    due = sorted(
        (local_due_at(wall, zone, default_zone), zone or default_zone, count)
        for zone, count in rows
    )
    late = [(zone, count) for at, zone, count in due if at < now]
    return Spread(
        first=due[0][0],
        first_zone=due[0][1],
        last=due[-1][0],
        last_zone=due[-1][1],
        late=sum(count for _, count in late),
        late_zones=tuple(zone for zone, _ in late),
    )


def refuse_late(spread: Spread, wall: datetime) -> None:
    """Refuse a --local-time send some readers would get at once instead of at `wall`."""
    if not spread.late:
        return
    zones = ", ".join(spread.late_zones[:5]) + (", ..." if len(spread.late_zones) > 5 else "")
    raise NewsletterError(
        f"{spread.late} reader(s) are already past {wall:%a %Y-%m-%d %H:%M} in their timezone "
        f"({zones}): they would get it at once; pick a later --at, or add --late-ok"
    )
