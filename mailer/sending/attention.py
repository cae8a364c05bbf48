"""A send's status with what needs someone's attention: a scheduled send past due while no
scheduler runs, and uncertain batches (how they get settled, which ones were). The one service
behind `newsletter status` (and any page or API that shows a send)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from mailer.core.settings import Settings
from mailer.events import settle
from mailer.ops.liveness import overdue_warning
from mailer.sending.control import Progress, progress


def send_status(engine: Engine, cfg: Settings, send_id: int, now: datetime) -> Progress:
    current = progress(engine, send_id)
    due = datetime.fromisoformat(current.scheduled_at) if current.scheduled_at else None
    overdue = overdue_warning(engine, cfg, current.state, due, now)
    if overdue:
        current.notes.append(overdue)
    with Session(engine) as session:
        found = settle.summary(session, send_id)
    current.settlement = found.as_dict()
    current.notes.extend(settle.explain(found, cfg, send_id))
    return current
