"""List and control sends; worker, scheduler and demo (`send` itself: send_create_cmds)."""

from __future__ import annotations

import os
import sys
import time
from datetime import UTC, datetime

import typer
from rich.console import Console
from rich.table import Table

from mailer.cli.apps import app
from mailer.cli.common import database, print_json, settings
from mailer.cli.send_view import follow, render_status, when_text
from mailer.core.errors import NewsletterError

err = Console(stderr=True)
FINAL = ("done", "failed", "cancelled")


def now() -> datetime:
    return datetime.now(UTC)


@app.command()
def sends(
    limit: int = typer.Option(20, "--limit", help="How many recent sends."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Recent sends with their state and counts."""
    from mailer.sending import control as send_control

    cfg = settings()
    rows = send_control.recent_sends(database(cfg), limit)
    if as_json:
        print_json([row.as_dict() for row in rows])
        return
    table = Table(
        "id", "state", "when", "subject", "list", "audience", "sent", "skipped", "failed",
        "uncertain",
    )  # fmt: skip
    for row in rows:
        target = (row.test_to and f"test: {row.test_to}") or row.list_name or ""
        table.add_row(
            str(row.id), row.state, when_text(row, cfg.NEWSLETTER_TIMEZONE), row.subject[:40],
            target, str(row.audience), str(row.sent), str(row.skipped), str(row.failed),
            str(row.uncertain),
        )  # fmt: skip
    Console().print(table)


@app.command()
def status(
    send_id: int = typer.Argument(..., help="The send's id."),
    follow_it: bool = typer.Option(False, "--follow", help="Progress bar until it ends."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """State of a send: counts per batch state, failed batches' errors, uncertain batches."""

    cfg = settings()
    engine = database(cfg)
    if follow_it and not as_json:
        follow(engine, send_id, err)
    from mailer.sending.attention import send_status

    current = send_status(engine, cfg, send_id, now())
    if as_json:
        print_json(current.as_dict())
    else:
        render_status(current, Console(), cfg.NEWSLETTER_TIMEZONE)


@app.command()
def cancel(send_id: int = typer.Argument(...)) -> None:
    """Cancel a send: nothing more goes out (batches in flight finish)."""
    from mailer.accounts.principal import cli_principal
    from mailer.workspace import sends as send_actions

    state = send_actions.act(database(settings()), cli_principal(), send_id, "cancel", now())
    typer.echo(f"send {send_id}: {state}")


@app.command()
def pause(send_id: int = typer.Argument(...)) -> None:
    """Pause a send: pending batches wait, batches in flight finish."""
    from mailer.accounts.principal import cli_principal
    from mailer.workspace import sends as send_actions

    state = send_actions.act(database(settings()), cli_principal(), send_id, "pause", now())
    typer.echo(f"send {send_id}: {state}")


@app.command()
def resume(
    send_id: int = typer.Argument(...),
    resend_uncertain: bool = typer.Option(
        False, "--resend-uncertain", help="Send uncertain batches again (may duplicate)."
    ),
) -> None:
    """Resume a paused send; optionally resend batches whose outcome is unknown."""
    from mailer.accounts.principal import cli_principal
    from mailer.workspace import sends as send_actions

    cfg = settings()
    state = send_actions.act(
        database(cfg), cli_principal(), send_id, "resume", now(), resend_uncertain
    )
    typer.echo(f"send {send_id}: {state}")
    if state == "sending":
        from mailer.tasks.sending import kick

        kick(send_id, cfg)
    elif state == "scheduled":
        from mailer.cli.send_create_cmds import _dispatch_if_due

        _dispatch_if_due(database(cfg), send_id)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def worker(
    ctx: typer.Context,
    queues: str = typer.Option("sends,messages,events", "--queues", "-Q"),
    concurrency: int = typer.Option(2, "--concurrency", "-c"),
    pool: str = typer.Option("prefork", "--pool", help="prefork, threads or solo."),
) -> None:
    """Run a Celery worker (needs REDIS_URL); further options (--hostname, --without-gossip, ...)
    go to mailer.tasks.run_worker."""
    cfg = settings()
    if cfg.REDIS_URL is None:
        raise NewsletterError("worker needs REDIS_URL (without it, tasks run in-process)")
    argv = ["-Q", queues, "--concurrency", str(concurrency), "--pool", pool, *ctx.args]
    # A fresh interpreter with only what a worker needs (not this CLI's modules); the same pid,
    # so signals, containers and supervisors see no difference.
    python = sys.executable
    os.execv(python, [python, "-m", "mailer.tasks.run_worker", *argv])


@app.command()
def scheduler() -> None:
    """Run the periodic dispatcher (Celery beat; an in-process loop without REDIS_URL)."""
    from mailer.ops.logging import configure_logging

    cfg = settings()
    configure_logging(cfg)
    if cfg.REDIS_URL is None:
        from mailer.tasks.sending import dispatch_due

        err.print(f"dispatching due sends every {cfg.SCHEDULER_INTERVAL_SECONDS:g}s (in-process)")
        while True:
            dispatch_due()
            time.sleep(cfg.SCHEDULER_INTERVAL_SECONDS)
    from mailer.tasks.app import celery_app

    schedule = cfg.VAR_DIR / "celerybeat-schedule"
    cfg.VAR_DIR.mkdir(parents=True, exist_ok=True)
    celery_app.start(["beat", "--loglevel", "INFO", "--schedule", str(schedule)])


@app.command()
def demo() -> None:
    """The whole path on embedded defaults: database, subscribers, the example issue, outbox."""
    from mailer.cli.demo import run_demo

    run_demo(settings(), err)


FOLLOW_STATES = FINAL
