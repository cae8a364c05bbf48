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
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, Table, bindparam, case, cast, func, or_, select
from sqlalchemy.orm import Session

from mailer.core.models import Event, Send
from mailer.events.address_suppressions import suppress_hashed
from mailer.events.correlate import Claimed, correlate
from subscribers.models import Status, Subscriber
from subscribers.status import suppress, unsubscribe_everywhere, unsubscribe_from_list
from subscribers.status_batch import StatusBatch
from subscribers.types import UTCDateTime


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


def judge(session: Session, claimed: Sequence[Any], cfg: PolicyConfig) -> Outcome:
    """Correlate claimed events and apply their verdicts, with one statement per kind of
    bookkeeping (counters, soft-bounce windows) and one status change per person at most."""
    rows, statuses = correlate(session, claimed)
    outcome = Outcome(judged=len(rows))
    # Forwarded copies: no subscriber, only the friend's hashed address to suppress.
    suppress_hashed(
        session,
        ((r.email, verdict(r.event, r.bounce_type, r.reason)) for r in rows if not r.subscriber_id),
    )
    actions: list[tuple[Claimed, Verdict]] = [
        (row, kind)
        for row in sorted(rows, key=lambda r: (r.subscriber_id or 0, r.occurred_at))
        if row.subscriber_id is not None
        and (kind := verdict(row.event, row.bounce_type, row.reason)) is not Verdict.RECORD
    ]
    _count_bounces(session, actions)
    over_limit = _soft_limit_reached(
        session, [r for r, k in actions if k is Verdict.SOFT_BOUNCE], cfg
    )
    # A group unsubscribe leaves one list: those people take the per-event path, in order
    # with their other events; everyone else's changes are batched.
    one_by_one = {r.subscriber_id for r, k in actions if k is Verdict.LEFT_LIST}
    batch = StatusBatch(current=dict(statuses))
    for row, kind in actions:
        if statuses.get(row.subscriber_id or 0) == Status.COMPLAINED:
            continue  # nothing outranks a complaint: skip the round trips
        if kind is Verdict.SOFT_BOUNCE and row.id not in over_limit:
            continue
        reason = over_limit.get(row.id, "")
        if row.subscriber_id in one_by_one:
            changed = _apply(session, row, kind, reason)
        else:
            changed = _plan(batch, row, kind, reason)
        if changed:
            outcome.count(kind)
    batch.write(session)
    return outcome


def _target(row: Claimed, kind: Verdict, soft_reason: str) -> tuple[Status, str]:
    """The status a verdict asks for, and the reason recorded with it."""
    if kind is Verdict.SOFT_BOUNCE:
        return Status.BOUNCED, soft_reason
    if kind in (Verdict.HARD_BOUNCE, Verdict.BOUNCED):
        return Status.BOUNCED, _why(row)
    if kind is Verdict.COMPLAINED:
        return Status.COMPLAINED, _why(row)
    return Status.UNSUBSCRIBED, f"sendgrid:{row.event}"


def _plan(batch: StatusBatch, row: Claimed, kind: Verdict, soft_reason: str) -> bool:
    """`_apply` for a person without group unsubscribes, into the batch."""
    sid = row.subscriber_id
    assert sid is not None
    status, reason = _target(row, kind, soft_reason)
    if status == Status.UNSUBSCRIBED:
        batch.leave_all_lists(sid, reason, row.occurred_at)
    return batch.change(sid, status, reason, row.occurred_at)


def _apply(session: Session, row: Claimed, kind: Verdict, soft_reason: str) -> bool:
    sid, when = row.subscriber_id, row.occurred_at
    assert sid is not None
    if kind is Verdict.LEFT_LIST:
        list_id = _list_of(session, row)
        if list_id is not None:
            return unsubscribe_from_list(session, sid, list_id, "sendgrid:group_unsubscribe", when)
    status, reason = _target(row, kind, soft_reason)
    if status == Status.UNSUBSCRIBED:
        return unsubscribe_everywhere(session, sid, reason, when)
    return suppress(session, sid, status, reason, when)


def _why(row: Claimed) -> str:
    detail = f": {row.reason}" if row.reason else ""
    return f"sendgrid {row.event}{detail}"[:200]


def _count_bounces(session: Session, actions: list[tuple[Claimed, Verdict]]) -> None:
    """bounce_count / soft_bounce_count + n and last_bounce_at, one executemany for all."""
    per_person: dict[int, dict[str, Any]] = {}
    for row, kind in actions:
        if kind not in (Verdict.HARD_BOUNCE, Verdict.SOFT_BOUNCE):
            continue
        assert row.subscriber_id is not None
        entry = per_person.setdefault(
            row.subscriber_id,
            {"b_id": row.subscriber_id, "b_hard": 0, "b_soft": 0, "b_when": row.occurred_at},
        )
        entry["b_hard" if kind is Verdict.HARD_BOUNCE else "b_soft"] += 1
        entry["b_when"] = max(entry["b_when"], row.occurred_at)
    if not per_person:
        return
    table = Subscriber.__table__
    assert isinstance(table, Table)
    when = bindparam("b_when", type_=UTCDateTime)
    later = or_(table.c.last_bounce_at.is_(None), table.c.last_bounce_at < when)
    session.execute(
        table.update()
        .where(table.c.id == bindparam("b_id"))
        .values(
            bounce_count=table.c.bounce_count + bindparam("b_hard"),
            soft_bounce_count=table.c.soft_bounce_count + bindparam("b_soft"),
            last_bounce_at=case((later, when), else_=table.c.last_bounce_at),
        ),
        [per_person[sid] for sid in sorted(per_person)],
    )


def _soft_limit_reached(session: Session, soft: list[Claimed], cfg: PolicyConfig) -> dict[int, str]:
    """Soft events (by event id) at whose time the person has reached the limit, with why.

    Failures are distinct messages (send, else SendGrid message id) in (t - window, t]."""
    if not soft:
        return {}
    window = cfg.soft_bounce_window
    history = soft_history(
        session,
        {r.subscriber_id for r in soft if r.subscriber_id is not None},
        min(r.occurred_at for r in soft) - window,
        max(r.occurred_at for r in soft),
    )
    reached: dict[int, str] = {}
    for row in soft:
        keys = {
            key
            for at, key in history.get(row.subscriber_id or 0, [])
            if row.occurred_at - window < at <= row.occurred_at
        }
        if len(keys) >= cfg.soft_bounce_limit:
            reached[row.id] = f"{len(keys)} soft bounces within {window.days} days"
    return reached


def soft_history(
    session: Session, ids: set[int], since: datetime, until: datetime
) -> dict[int, list[tuple[datetime, str]]]:
    """Every stored soft failure of these people in [since, until], as (time, message key)."""
    blocked = Event.bounce_type.is_not(None) & (Event.bounce_type != "bounce")
    soft = or_(Event.event == "deferred", (Event.event == "bounce") & blocked)
    message = func.coalesce(cast(Event.send_id, String), Event.sg_message_id, Event.sg_event_id)
    found: dict[int, list[tuple[datetime, str]]] = {}
    ordered = sorted(ids)
    for start in range(0, len(ordered), 500):
        rows = session.execute(
            select(Event.subscriber_id, Event.occurred_at, message).where(
                Event.subscriber_id.in_(ordered[start : start + 500]),
                soft,
                Event.occurred_at >= since,
                Event.occurred_at <= until,
            )
        )
        for sid, at, key in rows:
            found.setdefault(sid or 0, []).append((at, key))
    return found


def _list_of(session: Session, row: Claimed) -> int | None:
    list_id = (row.data or {}).get("nl_list_id")
    if isinstance(list_id, int):
        return list_id
    if row.send_id is None:
        return None
    return session.execute(select(Send.list_id).where(Send.id == row.send_id)).scalar_one_or_none()
