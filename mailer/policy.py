"""Judge stored webhook events: what each one means for its subscriber, applied exactly once.

The table (one test per row in tests/unit/events/test_policy.py):
- `bounce` type `bounce` (or no type) -> bounced, suppressed from every list, bounce_count + 1
- `bounce` type `blocked` and `deferred` -> soft failures; SOFT_BOUNCE_LIMIT of them within
  SOFT_BOUNCE_WINDOW_DAYS -> bounced. Failures are counted per message (per send), so SendGrid
  retrying one deferred message five times is one failure, not five.
- `spamreport` -> complained
- `unsubscribe` ("Opt Out of All Emails") -> unsubscribed everywhere
- `group_unsubscribe` -> leaves the list the send went to (a list is our unsubscribe group);
  unsubscribed everywhere when the list is unknown
- `dropped` "Bounced Address" / "Invalid" -> bounced, "Unsubscribed Address" -> unsubscribed,
  "Spam Reporting Address" -> complained; other drop reasons are about the message, not the person
- everything else (`processed`, `delivered`, `open`, `click`, ...) is recorded only.
Status ranks in subscribers/status.py make sure a late event never undoes a suppression.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, String, case, cast, func, or_, select, update
from sqlalchemy.orm import Session

from mailer.correlate import correlate
from mailer.models import Event, Send
from subscribers.models import Status, Subscriber
from subscribers.status import suppress, unsubscribe_everywhere, unsubscribe_from_list


class Verdict(enum.StrEnum):
    RECORD = "record"
    HARD_BOUNCE = "hard_bounce"
    SOFT_BOUNCE = "soft_bounce"
    BOUNCED = "bounced"  # SendGrid already knows the address bounces: suppress, count nothing
    COMPLAINED = "complained"
    UNSUBSCRIBED = "unsubscribed"
    LEFT_LIST = "left_list"


_DROP_REASONS = {
    "bounced address": Verdict.BOUNCED,
    "invalid": Verdict.BOUNCED,
    "unsubscribed address": Verdict.UNSUBSCRIBED,
    "spam reporting address": Verdict.COMPLAINED,
}


@dataclass(frozen=True, slots=True)
class PolicyConfig:
    soft_bounce_limit: int = 3
    soft_bounce_window: timedelta = timedelta(days=30)


@dataclass(slots=True)
class Outcome:
    """What one run of the policy did, for logs and tests."""

    judged: int = 0
    changed: dict[str, int] = field(default_factory=dict)

    def count(self, verdict: Verdict) -> None:
        self.changed[verdict] = self.changed.get(verdict, 0) + 1


def verdict(event: str, bounce_type: str | None, reason: str | None) -> Verdict:
    """Pure: the meaning of one event for its subscriber."""
    if event == "bounce":
        return Verdict.HARD_BOUNCE if bounce_type in (None, "bounce") else Verdict.SOFT_BOUNCE
    if event == "deferred":
        return Verdict.SOFT_BOUNCE
    if event == "spamreport":
        return Verdict.COMPLAINED
    if event == "unsubscribe":
        return Verdict.UNSUBSCRIBED
    if event == "group_unsubscribe":
        return Verdict.LEFT_LIST
    if event == "dropped":
        return _DROP_REASONS.get((reason or "").strip().lower(), Verdict.RECORD)
    return Verdict.RECORD


def judge(session: Session, claimed: list[Row[Any]], cfg: PolicyConfig) -> Outcome:
    """Correlate claimed events and apply their verdicts, in subscriber order (fewer lock waits)."""
    rows = correlate(session, claimed)
    outcome = Outcome(judged=len(rows))
    for row in sorted(rows, key=lambda r: (r.subscriber_id or 0, r.occurred_at)):
        kind = verdict(row.event, row.bounce_type, row.reason)
        if kind is Verdict.RECORD or row.subscriber_id is None:
            continue
        if _apply(session, row, kind, cfg):
            outcome.count(kind)
    return outcome


def _apply(session: Session, row: Any, kind: Verdict, cfg: PolicyConfig) -> bool:
    sid, when = row.subscriber_id, row.occurred_at
    if kind is Verdict.HARD_BOUNCE:
        _count_bounce(session, sid, when, Subscriber.bounce_count)
        return suppress(session, sid, Status.BOUNCED, _why(row), when)
    if kind is Verdict.SOFT_BOUNCE:
        _count_bounce(session, sid, when, Subscriber.soft_bounce_count)
        failures = soft_failures(session, sid, when, cfg.soft_bounce_window)
        if failures < cfg.soft_bounce_limit:
            return False
        why = f"{failures} soft bounces within {cfg.soft_bounce_window.days} days"
        return suppress(session, sid, Status.BOUNCED, why, when)
    if kind is Verdict.BOUNCED:
        return suppress(session, sid, Status.BOUNCED, _why(row), when)
    if kind is Verdict.COMPLAINED:
        return suppress(session, sid, Status.COMPLAINED, _why(row), when)
    if kind is Verdict.LEFT_LIST:
        list_id = _list_of(session, row)
        if list_id is not None:
            return unsubscribe_from_list(session, sid, list_id, "sendgrid:group_unsubscribe", when)
    return unsubscribe_everywhere(session, sid, f"sendgrid:{row.event}", when)


def _why(row: Any) -> str:
    detail = f": {row.reason}" if row.reason else ""
    return f"sendgrid {row.event}{detail}"[:200]


def _count_bounce(session: Session, sid: int, when: datetime, counter: Any) -> None:
    later = or_(Subscriber.last_bounce_at.is_(None), Subscriber.last_bounce_at < when)
    session.execute(
        update(Subscriber)
        .where(Subscriber.id == sid)
        .values(
            {
                counter: counter + 1,
                Subscriber.last_bounce_at: case((later, when), else_=Subscriber.last_bounce_at),
            }
        )
    )


def soft_failures(session: Session, sid: int, when: datetime, window: timedelta) -> int:
    """Distinct messages (by send, else by SendGrid message id) that failed softly in the window."""
    soft = or_(
        Event.event == "deferred",
        (Event.event == "bounce")
        & Event.bounce_type.is_not(None)
        & (Event.bounce_type != "bounce"),
    )
    message = func.coalesce(cast(Event.send_id, String), Event.sg_message_id, Event.sg_event_id)
    return session.execute(
        select(func.count(func.distinct(message))).where(
            Event.subscriber_id == sid,
            soft,
            Event.occurred_at > when - window,
            Event.occurred_at <= when,
        )
    ).scalar_one()


def _list_of(session: Session, row: Any) -> int | None:
    list_id = (row.data or {}).get("nl_list_id")
    if isinstance(list_id, int):
        return list_id
    if row.send_id is None:
        return None
    return session.execute(select(Send.list_id).where(Send.id == row.send_id)).scalar_one_or_none()
