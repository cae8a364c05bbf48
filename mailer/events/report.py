"""A send's outcome as numbers: counts, rates, top links, the first 48 hours, and warnings.

Rates and their bases:
- `delivered`, `bounced` (with `bounced_hard` / `bounced_soft`) and `dropped` are per **sent**
  (recipients whose batch SendGrid accepted, send_recipients state `sent`);
- `opened`, `clicked`, `complained`, `unsubscribed`, `forwarded` and `referred` are per
  **delivered** (SendGrid's `delivered` events): Gmail's complaint rate is per delivered too.
A rate is null while its basis is 0 (for example before any webhook event has arrived).

Counting rules:
- every figure counts people (distinct addresses) once; `opened_total` / `clicked_total` count
  every open and click; `bounced_hard` is a `bounce` of type `bounce`, `bounced_soft` one of
  type `blocked` only (a recipient with both counts as hard); deferrals are not bounces;
- `unsubscribed`: the webhook's `unsubscribe` / `group_unsubscribe` events for this send, plus
  recipients who left this send's list (or everything) on our own pages after the send started
  and before any later send reached them (so each unsubscribe is credited to one send);
- `forwarded`: recipients who forwarded this issue (`forwarded_friends`: friends mailed);
- `referred`: new subscribers brought in by a forward of this issue who confirmed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

from mailer.core.settings import Settings

HOURS = 48
CHART_KINDS = ("delivered", "open", "click")
PER_SENT = ("delivered", "bounced", "bounced_hard", "bounced_soft", "dropped")
PER_DELIVERED = ("opened", "clicked", "complained", "unsubscribed", "forwarded", "referred")


@dataclass(frozen=True, slots=True)
class Counts:
    sent: int
    delivered: int
    bounced: int
    bounced_hard: int
    dropped: int
    complained: int
    opened: int
    opened_total: int
    clicked: int
    clicked_total: int
    unsubscribed: int
    forwarded: int
    forwarded_friends: int
    referred: int
    events: int

    @property
    def bounced_soft(self) -> int:
        return self.bounced - self.bounced_hard


@dataclass(frozen=True, slots=True)
class Link:
    url: str
    clicks: int
    unique: int


@dataclass(frozen=True, slots=True)
class Thresholds:
    bounce_rate: float = 0.02
    complaint_rate: float = 0.001

    @classmethod
    def from_settings(cls, cfg: Settings) -> Thresholds:
        return cls(bounce_rate=cfg.BOUNCE_RATE_WARNING, complaint_rate=cfg.COMPLAINT_RATE_WARNING)


def rate(count: int, basis: int) -> float | None:
    return round(count / basis, 6) if basis else None


def figures(counts: Counts) -> dict[str, Any]:
    """Flat `name`, `name_rate` pairs (scripts read `report["bounced"]` directly)."""
    out: dict[str, Any] = {"sent": counts.sent}
    for name in PER_SENT:
        out[name] = getattr(counts, name)
        out[f"{name}_rate"] = rate(out[name], counts.sent)
    for name in PER_DELIVERED:
        out[name] = getattr(counts, name)
        out[f"{name}_rate"] = rate(out[name], counts.delivered)
    out["opened_total"] = counts.opened_total
    out["clicked_total"] = counts.clicked_total
    out["forwarded_friends"] = counts.forwarded_friends
    out["rate_basis"] = {
        **dict.fromkeys(PER_SENT, "sent"),
        **dict.fromkeys(PER_DELIVERED, "delivered"),
    }
    return out


def warnings(counts: Counts, limits: Thresholds) -> list[str]:
    found = []
    bounce_rate = rate(counts.bounced, counts.sent)
    if bounce_rate is not None and bounce_rate > limits.bounce_rate:
        found.append(
            f"bounce rate {bounce_rate:.2%} is above {limits.bounce_rate:.2%}: "
            "the list needs cleaning before the next send"
        )
    complaint_rate = rate(counts.complained, counts.delivered)
    if complaint_rate is not None and complaint_rate > limits.complaint_rate:
        found.append(
            f"complaint rate {complaint_rate:.2%} is above {limits.complaint_rate:.2%} "
            "(Gmail and Yahoo start rejecting mail at 0.30%)"
        )
    if counts.sent and not counts.events:
        found.append(
            "no webhook events recorded for this send yet: is SendGrid's Event Webhook "
            "pointed at /webhooks/sendgrid?"
        )
    return found


def hourly_rows(hours: list[Counter[str]]) -> list[dict[str, int]]:
    rows = []
    for hour, kinds in enumerate(hours):
        row = {"hour": hour, **{kind: kinds.get(kind, 0) for kind in CHART_KINDS}}
        row["other"] = sum(kinds.values()) - sum(row[k] for k in CHART_KINDS)
        row["total"] = sum(kinds.values())
        rows.append(row)
    return rows


def assemble(
    send: dict[str, Any],
    counts: Counts,
    links: list[Link],
    hours: list[Counter[str]],
    limits: Thresholds,
) -> dict[str, Any]:
    """The whole report as one JSON-ready object."""
    return {
        **send,
        **figures(counts),
        "top_links": [asdict(link) for link in links],
        "hourly": hourly_rows(hours),
        "warnings": warnings(counts, limits),
    }


@dataclass(frozen=True, slots=True)
class Bar:
    """One stacked segment of the hourly chart, in SVG user units."""

    x: float
    y: float
    width: float
    height: float
    kind: str
    hour: int
    count: int


def chart_bars(rows: list[dict[str, int]], width: float = 720, height: float = 180) -> list[Bar]:
    """Stacked bars (delivered, open, click, other) per hour, scaled to the busiest hour."""
    peak = max((row["total"] for row in rows), default=0)
    if not peak or not rows:
        return []
    step = width / len(rows)
    bars = []
    for row in rows:
        top = height
        for kind in (*CHART_KINDS, "other"):
            size = row[kind] / peak * height
            if size > 0:
                top -= size
                bars.append(
                    Bar(row["hour"] * step + 1, top, step - 2, size, kind, row["hour"], row[kind])
                )
    return bars
