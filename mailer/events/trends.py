"""Trends across the last issues: each send's opens, clicks, unsubscribes, bounces, forwards and
referrals side by side, and the links readers clicked most across them."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.core.models import Send, SendState
from mailer.events.report import figures
from mailer.events.report_queries import load_counts, top_links

TREND = ("sent", "opened", "opened_rate", "clicked", "clicked_rate", "unsubscribed",
         "bounced", "forwarded", "referred")  # fmt: skip


@dataclass(frozen=True)
class Trends:
    issues: list[dict[str, Any]]  # oldest first, so a row reads left to right in time
    links: list[tuple[str, int]]  # (url, clicks) over those issues


def trends(session: Session, last: int = 10) -> Trends:
    sends = session.scalars(
        select(Send)
        .where(Send.state.in_((SendState.DONE, SendState.FAILED)), Send.test_to.is_(None))
        .order_by(Send.id.desc())
        .limit(last)
    ).all()
    issues, clicks = [], Counter[str]()
    for send in reversed(sends):
        numbers = figures(load_counts(session, send))
        issues.append({"id": send.id, "subject": send.subject, "finished_at": send.finished_at,
                       **{key: numbers[key] for key in TREND}})  # fmt: skip
        for link in top_links(session, send.id, limit=20):
            clicks[link.url] += link.clicks
    return Trends(issues, clicks.most_common(10))
