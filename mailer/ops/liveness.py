"""Heartbeats: workers and the scheduler's periodic check say they are alive; readers judge them.

What a heartbeat means:
- `scheduler`: the periodic check (`dispatch_due`) last ran then. It is written by the check
  itself, so it proves the whole chain that starts due sends works: beat and a worker of the
  sends queue under Redis, or the in-process `newsletter scheduler` loop without REDIS_URL.
- a worker (one row per Celery hostname): the worker process was up then. Without REDIS_URL
  there are no workers, tasks run in the process that queues them, so none is expected.
A row older than a few intervals is stale: the process died, hangs, or lost the database.
"""

from __future__ import annotations

import os
import socket
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mailer.core.models import Heartbeat
from mailer.core.settings import Settings
from mailer.ops.doctor import Check, Level, ok
from mailer.sending.state import rowcount
from subscribers.db import transaction

SCHEDULER = "scheduler"
WORKER = "worker"
FORGET_AFTER = timedelta(days=1)  # a worker silent this long is gone for good (a removed host)


def beat(engine: Engine, name: str, role: str, now: datetime, detail: str = "") -> None:
    """Record that `name` is alive now (one row per name: update, or insert the first time)."""
    values = {"role": role, "host": socket.gethostname(), "pid": os.getpid(), "detail": detail}
    with transaction(engine) as session:
        seen = update(Heartbeat).where(Heartbeat.name == name).values(seen_at=now, **values)
        if rowcount(session.execute(seen)):
            return
    try:
        with transaction(engine) as session:
            session.add(Heartbeat(name=name, started_at=now, seen_at=now, **values))
    except IntegrityError:  # a twin inserted it meanwhile: it is there, which is the point
        pass


def forget(engine: Engine, name: str) -> None:
    """A clean shutdown: the process is not stale, it is gone."""
    with transaction(engine) as session:
        session.execute(delete(Heartbeat).where(Heartbeat.name == name))


def forget_old(engine: Engine, now: datetime) -> int:
    with transaction(engine) as session:
        return rowcount(
            session.execute(delete(Heartbeat).where(Heartbeat.seen_at < now - FORGET_AFTER))
        )


@dataclass(frozen=True)
class Pulse:
    """One heartbeat as the readers see it."""

    name: str
    role: str
    host: str
    pid: int
    detail: str
    seen_at: datetime
    age_seconds: float
    stale: bool

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "seen_at": self.seen_at.isoformat()}


def scheduler_stale_after(cfg: Settings) -> float:
    """Three missed periodic checks (at least 30 s, so a slow check is not called dead)."""
    return max(3 * cfg.SCHEDULER_INTERVAL_SECONDS, 30.0)


def worker_stale_after(cfg: Settings) -> float:
    return 3 * cfg.HEARTBEAT_SECONDS


def pulses(engine: Engine, cfg: Settings, now: datetime) -> list[Pulse]:
    with Session(engine) as session:
        rows = session.scalars(select(Heartbeat).order_by(Heartbeat.role, Heartbeat.name)).all()
    out = []
    for row in rows:
        age = max(0.0, (now - row.seen_at).total_seconds())
        limit = scheduler_stale_after(cfg) if row.role == SCHEDULER else worker_stale_after(cfg)
        out.append(
            Pulse(row.name, row.role, row.host, row.pid, row.detail, row.seen_at, age, age > limit)
        )
    return out


def scheduler_pulse(engine: Engine, cfg: Settings, now: datetime) -> Pulse | None:
    return next((p for p in pulses(engine, cfg, now) if p.role == SCHEDULER), None)


def describe_age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s ago"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min ago"
    return f"{seconds / 3600:.1f} h ago"


# --- judgements: doctor, /healthz and `status` ------------------------------------------------


def judge_scheduler(pulse: Pulse | None, cfg: Settings) -> Check:
    every = f"expected every {cfg.SCHEDULER_INTERVAL_SECONDS:g} s"
    chain = "`newsletter scheduler`" + (
        " and a worker of the sends queue (it runs the check)" if cfg.REDIS_URL else ""
    )
    if pulse is None:
        return Check(
            "scheduler",
            Level.WARN,
            "never heard from: scheduled sends do not start, stalled sends are not repaired",
            f"run {chain}, one instance, always on",
        )
    if pulse.stale:
        return Check(
            "scheduler",
            Level.WARN,
            f"stale: the periodic check last ran {describe_age(pulse.age_seconds)} ({every})",
            f"check that {chain} are running",
        )
    return ok("scheduler", f"periodic check ran {describe_age(pulse.age_seconds)} ({every})")


def judge_workers(found: list[Pulse], cfg: Settings) -> Check:
    if cfg.REDIS_URL is None:
        return ok("workers", "none needed: REDIS_URL is unset, tasks run in-process")
    workers = [p for p in found if p.role == WORKER]
    alive = [f"{p.name} ({p.detail})" if p.detail else p.name for p in workers if not p.stale]
    stale = [f"{p.name} (last heard {describe_age(p.age_seconds)})" for p in workers if p.stale]
    if not alive:
        detail = "no worker alive: nothing is sent, no webhook event is applied"
        return Check(
            "workers",
            Level.WARN,
            detail + (f"; stale: {', '.join(stale)}" if stale else ""),
            "start `newsletter worker` (queues sends, messages, events)",
        )
    if stale:
        return Check(
            "workers",
            Level.WARN,
            f"{len(alive)} alive: {', '.join(alive)}; stale: {', '.join(stale)}",
            "restart or remove the stale workers (a clean stop removes its heartbeat)",
        )
    return ok("workers", f"{len(alive)} alive: {', '.join(alive)}")


def liveness_checks(engine: Engine, cfg: Settings, now: datetime) -> list[Check]:
    found = pulses(engine, cfg, now)
    scheduler = next((p for p in found if p.role == SCHEDULER), None)
    return [judge_scheduler(scheduler, cfg), judge_workers(found, cfg)]


def overdue_warning(
    engine: Engine, cfg: Settings, state: str, due: datetime | None, now: datetime
) -> str | None:
    """A scheduled send past its time with no live scheduler to start it; else None."""
    grace = timedelta(seconds=2 * cfg.SCHEDULER_INTERVAL_SECONDS)
    if state != "scheduled" or due is None or due + grace > now:
        return None
    pulse = scheduler_pulse(engine, cfg, now)
    if pulse is not None and not pulse.stale:
        return None
    heard = "never" if pulse is None else describe_age(pulse.age_seconds)
    return (
        f"due {describe_age((now - due).total_seconds())} but no scheduler is running "
        f"(last heard from: {heard}); start `newsletter scheduler` and it goes out"
    )
