"""How sends look on a terminal: the status report and the live progress bar."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from mailer.sending import control as send_control

FINAL = ("done", "failed", "cancelled")


def follow(engine: Engine, send_id: int, console: Console, poll: float = 0.5) -> None:
    """A progress bar (sent / total, rate, time left) until the send ends or is paused."""
    from mailer.sending import control as send_control

    columns = (
        TextColumn("send {task.fields[send]} [bold]{task.fields[state]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rate]}/s"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task("send", total=None, send=send_id, state="", rate="0")
        while True:
            now = send_control.progress(engine, send_id)
            done = now.sent + now.skipped + now.failed + now.uncertain + now.cancelled
            rate = f"{now.sent / _elapsed(now):,.0f}"
            bar.update(task, total=now.total or None, completed=done, state=now.state, rate=rate)
            if now.state in FINAL or now.state == "paused":
                break
            time.sleep(poll)


def _elapsed(p: send_control.Progress) -> float:
    """Seconds the send has been going (until it finished), for its rate."""
    if not p.started_at:
        return 1.0
    end = datetime.fromisoformat(p.finished_at) if p.finished_at else datetime.now(UTC)
    return max((end - datetime.fromisoformat(p.started_at)).total_seconds(), 1e-3)


def when_text(p: send_control.Progress, zone: str) -> str:
    """When the send goes (or went): both clocks, or each reader's wall clock for local time."""
    from mailer.sending.timing import both_clocks

    if p.local_time and p.wall_time:
        wall = datetime.fromisoformat(p.wall_time)
        return f"{wall:%a %Y-%m-%d %H:%M} in each reader's timezone"
    moment = p.started_at or p.scheduled_at
    return both_clocks(datetime.fromisoformat(moment), zone) if moment else "-"


def render_status(p: send_control.Progress, console: Console, zone: str = "UTC") -> None:
    target = f"test copy to {p.test_to}" if p.test_to else f"list {p.list_name}"
    if p.segment:
        target += f", segment {p.segment}"
    console.print(f"send {p.id}: [bold]{p.state}[/bold]  {p.subject!r} -> {target}")
    if p.state == "scheduled":
        console.print(f"  goes out: {when_text(p, zone)}; audience: {p.audience} match now")
    else:
        console.print(f"  audience: {p.audience} recipients")
    for label, value in (
        ("scheduled", p.scheduled_at),
        ("started", p.started_at),
        ("finished", p.finished_at),
        ("throttled until", p.throttled_until),
    ):
        if value:
            console.print(f"  {label}: {value}")
    console.print(
        f"  recipients: {p.total} total, {p.sent} sent, {p.skipped} skipped, {p.pending} pending, "
        f"{p.failed} failed, {p.uncertain} uncertain, {p.cancelled} cancelled"
    )
    batches = ", ".join(f"{count} {state}" for state, count in sorted(p.batches.items()))
    console.print(f"  batches: {batches or 'none yet'}")
    if p.errors:
        table = Table("batch", "state", "recipients", "error", title="batches needing attention")
        for row in p.errors:
            table.add_row(
                str(row["batch"]), row["state"], str(row["recipients"]), row["error"] or ""
            )
        console.print(table)
    for note in p.notes:
        console.print(f"  [bold yellow]warning:[/] {note}", highlight=False)
