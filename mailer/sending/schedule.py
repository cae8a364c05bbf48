"""Parse `--at` (ISO 8601 or "monday 08:00") into a wall-clock time and the instant it means.

Pure: the caller passes `now` and the default zone. A time without a zone is read in
NEWSLETTER_TIMEZONE; a zone may be given as an offset (`+02:00`, `Z`) or an IANA name after a
space (`"monday 08:00 Europe/Paris"`). `--local-time` keeps the wall clock (`wall`) and lets
each subscriber's own zone decide the instant (see mailer.sending.plan).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mailer.core.errors import NewsletterError

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_RELATIVE = re.compile(
    r"^(?P<day>[a-z]+)\s+(?P<hour>\d{1,2})(?::(?P<minute>\d{2}))?\s*(?P<ampm>am|pm)?$"
)


@dataclass(frozen=True, slots=True)
class When:
    """`wall` is the naive local date and time; `at` the aware UTC instant it means."""

    wall: datetime
    at: datetime
    zone: str


def parse_when(text: str, default_zone: str, now: datetime) -> When:
    """Read an `--at` value; relative forms mean their next occurrence after `now`."""
    raw = " ".join(text.strip().split())
    if not raw:
        raise NewsletterError("--at: empty time")
    body, zone_name = _split_zone(raw, default_zone)
    zone = _zone(zone_name)
    if body.lower() == "now":
        local = now.astimezone(zone).replace(tzinfo=None, microsecond=0)
        return When(local, now.astimezone(UTC), zone_name)
    parsed = _parse_iso(body)
    if parsed is not None:
        if parsed.tzinfo is not None:
            return When(parsed.replace(tzinfo=None), parsed.astimezone(UTC), _zone_label(parsed))
        return When(parsed, _localize(parsed, zone), zone_name)
    wall = _next_relative(body, zone, now)
    return When(wall, _localize(wall, zone), zone_name)


def ensure_future(when: When, now: datetime, grace: timedelta = timedelta(minutes=1)) -> None:
    """Refuse a time in the past: sending it "now" by surprise would be worse."""
    if when.at < now - grace:
        raise NewsletterError(f"--at: {when.wall.isoformat(sep=' ')} is in the past")


def _split_zone(raw: str, default_zone: str) -> tuple[str, str]:
    head, _, last = raw.rpartition(" ")
    if head and ("/" in last or last.upper() == "UTC"):
        return head, last
    return raw, default_zone


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise NewsletterError(f"--at: unknown timezone {name!r}") from exc


def _zone_label(value: datetime) -> str:
    return str(value.tzinfo) if value.tzinfo is not None else "UTC"


def _parse_iso(body: str) -> datetime | None:
    candidate = body.replace(" ", "T", 1) if re.match(r"^\d{4}-\d{2}-\d{2} ", body) else body
    if not re.match(r"^\d{4}-\d{2}-\d{2}", candidate):
        return None
    try:
        return datetime.fromisoformat(candidate.replace("z", "Z"))
    except ValueError as exc:
        raise NewsletterError(f"--at: {body!r} is not an ISO 8601 time ({exc})") from exc


def _next_relative(body: str, zone: tzinfo, now: datetime) -> datetime:
    match = _RELATIVE.match(body.lower())
    if not match:
        raise NewsletterError(
            f'--at: cannot read {body!r}; use ISO 8601 (2026-11-30T08:00) or "monday 08:00"'
        )
    clock = _clock(match)
    today = now.astimezone(zone).replace(tzinfo=None)
    day = match["day"]
    if day in ("today", "tomorrow"):
        date = today.date() + timedelta(days=1 if day == "tomorrow" else 0)
        return datetime.combine(date, clock)
    weekday = _weekday(day)
    ahead = (weekday - today.weekday()) % 7
    candidate = datetime.combine(today.date() + timedelta(days=ahead), clock)
    if candidate <= today:
        candidate += timedelta(days=7)
    return candidate


def _weekday(day: str) -> int:
    for index, name in enumerate(WEEKDAYS):
        if len(day) >= 3 and name.startswith(day):
            return index
    raise NewsletterError(f"--at: unknown day {day!r}")


def _clock(match: re.Match[str]) -> time:
    hour, minute = int(match["hour"]), int(match["minute"] or 0)
    if match["ampm"]:
        if not 1 <= hour <= 12:
            raise NewsletterError(f"--at: {hour} is not a 12-hour clock hour")
        hour = hour % 12 + (12 if match["ampm"] == "pm" else 0)
    if hour > 23 or minute > 59:
        raise NewsletterError(f"--at: {hour:02d}:{minute:02d} is not a time of day")
    return time(hour, minute)


def _localize(wall: datetime, zone: tzinfo) -> datetime:
    """The instant a wall-clock time means in `zone` (fold=0: the first of a repeated hour)."""
    return wall.replace(tzinfo=zone).astimezone(UTC)
