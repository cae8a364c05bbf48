"""Small local helpers for the sending unit tests: an audience, an issue, scripted transports."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from mailer.core.settings import Settings
from mailer.issue import placeholders as ph
from mailer.sending.create import Frozen, check_audience, create_send
from mailer.sending.pipeline import Runtime
from mailer.sending.plan import RetryPolicy
from mailer.sending.state import start_send
from mailer.transport.base import Payload, Receipt
from subscribers.db import transaction
from subscribers.store import add_subscriber, get_or_create_list

ISSUE = Frozen(
    subject="Weekly",
    preheader="",
    slug="2026-11-30-weekly",
    html=f'<p>Hi {ph.NAME}</p><a href="{ph.UNSUBSCRIBE_URL}">unsubscribe</a>'
    f'<a href="{ph.VIEW_URL}">view</a>',
    text=f"Hi {ph.NAME}\n{ph.UNSUBSCRIBE_URL}",
)
T0 = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)


def started_send(engine: Engine, cfg: Settings, people: int, batch_size: int = 10) -> int:
    """`people` subscribers on "weekly" and a send to all of them, started (frozen) at T0."""
    seed(engine, people)
    list_id, _ = check_audience(engine, "weekly", None)
    send_id = create_send(engine, cfg, ISSUE, list_id, None, None, False, T0)
    start_send(engine, send_id, T0, batch_size, "UTC")
    return send_id


def started_send_again(engine: Engine, cfg: Settings) -> int:
    """A second send of the same issue to "weekly" (after `started_send`), started at T0."""
    list_id, _ = check_audience(engine, "weekly", None)
    send_id = create_send(engine, cfg, ISSUE, list_id, None, None, False, T0, again=True)
    start_send(engine, send_id, T0, 10, "UTC")
    return send_id


def seed(engine: Engine, count: int, list_name: str = "weekly", **per: Any) -> int:
    """`count` active subscribers on one list; tag "odd" on odd numbers; zone from `per`."""
    zones: Callable[[int], str | None] = per.get("zone", lambda i: None)
    with transaction(engine) as session:
        list_id = get_or_create_list(session, list_name).id
        for i in range(count):
            tags = ["odd"] if i % 2 else []
            add_subscriber(
                session, f"p{i:04d}@example.org", f"P {i}", [list_name], tags, {}, zones(i)
            )
    return list_id


class Clock:
    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class ScriptedTransport:
    """Answers from a script (an exception to raise, or None for 202), recording accepted mail."""

    script: list[Exception | None] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)
    payloads: list[Payload] = field(default_factory=list)
    requests: int = 0

    def deliver(self, payload: Payload) -> Receipt:
        self.requests += 1
        self.payloads.append(payload)
        outcome = self.script.pop(0) if self.script else None
        if outcome is not None:
            raise outcome
        for person in payload["personalizations"]:
            self.accepted.extend(to["email"] for to in person["to"])
        return Receipt(202, f"msg-{self.requests}")


def runtime(
    engine: Engine, settings: Settings, transport: ScriptedTransport, clock: Clock
) -> Runtime:
    return Runtime(engine, transport, settings, retry=RetryPolicy(base=1, cap=10), clock=clock)


def emails(start: int, stop: int, step: int = 1) -> Iterator[str]:
    return (f"p{i:04d}@example.org" for i in range(start, stop, step))


def started(engine: Engine, settings: Settings, people: int) -> tuple[int, Settings]:
    """`people` subscribers of "weekly", a send to all of them started at T0 (batches of 10)."""
    from mailer.sending import state as sends
    from mailer.sending.create import check_audience, create_send

    cfg = settings.model_copy(update={"SEND_BATCH_SIZE": 10})
    seed(engine, people)
    list_id, _ = check_audience(engine, "weekly", None)
    send_id = create_send(engine, cfg, ISSUE, list_id, None, None, False, T0)
    sends.start_send(engine, send_id, T0, 10, "UTC")
    return send_id, cfg
