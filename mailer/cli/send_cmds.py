"""Send, schedule and control sends; worker, scheduler and demo."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from mailer.accounts import audit
from mailer.accounts.principal import cli_principal
from mailer.cli.apps import app
from mailer.cli.common import database, print_json, settings
from mailer.cli.send_view import follow, render_status
from mailer.core.errors import NewsletterError
from mailer.core.settings import Settings
from mailer.ops.logging import configure_logging
from mailer.sending import control as send_control
from mailer.sending.create import (
    Frozen,
    check_audience,
    create_send,
    frozen_of,
    send_test_copy,
)
from mailer.sending.schedule import ensure_future, parse_when
from mailer.workspace import sends as send_actions
from subscribers.db import transaction

err = Console(stderr=True)
FINAL = ("done", "failed", "cancelled")


def now() -> datetime:
    return datetime.now(UTC)


def render_frozen(path: Path, cfg: Settings) -> Frozen:
    """Parse, render and store the issue once; every recipient gets this HTML and text."""
    from mailer.issue.branding import Branding
    from mailer.issue.store import create_issue_from_file

    with transaction(database(cfg)) as session:
        row = create_issue_from_file(session, cli_principal(), path, Branding.from_settings(cfg))
        frozen = frozen_of(row)
    for warning in row.warnings:
        err.print(f"warning: {warning}")
    return frozen


@app.command()
def send(
    issue: Path = typer.Argument(..., help="The issue file (Markdown with front matter)."),
    list_name: str = typer.Option(None, "--list", help="The list to send to."),
    segment: str = typer.Option(None, "--segment", help="Only subscribers matching EXPR."),
    at: str = typer.Option(None, "--at", help='ISO 8601 or "monday 08:00" (NEWSLETTER_TIMEZONE).'),
    local_time: bool = typer.Option(False, "--local-time", help="At that time in each zone."),
    test_to: str = typer.Option(None, "--test-to", help="Send one copy to this address only."),
    wait: bool = typer.Option(False, "--wait", help="Show a progress bar until done."),
) -> None:
    """Create a send of ISSUE to a list (or a test copy) and print its id."""
    cfg = settings()
    if not issue.is_file():
        raise NewsletterError(f"{issue}: no such file")
    if test_to is None and not list_name:
        raise NewsletterError("--list is required (or --test-to EMAIL for a test copy)")
    if local_time and not at:
        raise NewsletterError('--local-time needs --at (the wall-clock time, e.g. "monday 08:00")')
    when = parse_when(at, cfg.NEWSLETTER_TIMEZONE, now()) if at else None
    if when is not None:
        ensure_future(when, now())
    engine = database(cfg)
    if test_to is not None:
        _send_test(cfg, engine, issue, test_to)
        return
    list_id, reach = check_audience(engine, list_name, segment)  # before anything is stored
    frozen = render_frozen(issue, cfg)
    send_id = create_send(engine, cfg, frozen, list_id, segment, when, local_time, now())
    with transaction(engine) as session:
        detail = f"issue={frozen.issue_id} list={list_name} recipients={reach}"
        audit.record(session, cli_principal(), "send.create", f"send {send_id}", detail)
    typer.echo(send_id)
    _announce(send_id, reach, when is not None, local_time, cfg)
    _dispatch_if_due(send_id, cfg)
    if wait:
        follow(engine, send_id, err)


def _send_test(cfg: Settings, engine: object, issue: Path, to: str) -> None:
    from email_validator import EmailNotValidError, validate_email

    from mailer.transport.factory import make_transport

    try:
        validate_email(to, check_deliverability=False)
    except EmailNotValidError as exc:
        raise NewsletterError(f"--test-to: {exc}") from exc
    frozen = render_frozen(issue, cfg)
    send_id, message_id = send_test_copy(
        engine,  # type: ignore[arg-type]
        cfg,
        make_transport(cfg),
        frozen,
        to,
        now(),
    )
    typer.echo(send_id)
    err.print(f"test copy sent to {to} (message id {message_id})")


def _announce(send_id: int, reach: int, later: bool, local: bool, cfg: Settings) -> None:
    what = "scheduled" if later or local else "starting"
    err.print(f"send {send_id} {what}: {reach} subscribers match now")
    if (later or local) and cfg.REDIS_URL is None:
        err.print("it goes out while `newsletter scheduler` runs (no REDIS_URL: in-process)")


def _dispatch_if_due(send_id: int, cfg: Settings) -> None:
    """A send due now starts at once; later ones wait for the scheduler's periodic check."""
    from mailer.tasks.sending import start_send

    engine = database(cfg)
    send = send_control.get_send(engine, send_id)
    if send.scheduled_at is not None and send.scheduled_at <= now():
        start_send.delay(send_id)


@app.command()
def sends(
    limit: int = typer.Option(20, "--limit", help="How many recent sends."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Recent sends with their state and counts."""
    engine = database(settings())
    rows = send_control.recent_sends(engine, limit)
    if as_json:
        print_json([row.as_dict() for row in rows])
        return
    table = Table(
        "id", "state", "subject", "list", "total", "sent", "skipped", "failed", "uncertain"
    )
    for row in rows:
        target = (row.test_to and f"test: {row.test_to}") or row.list_name or ""
        table.add_row(
            str(row.id), row.state, row.subject[:40], target, str(row.total), str(row.sent),
            str(row.skipped), str(row.failed), str(row.uncertain),
        )  # fmt: skip
    Console().print(table)


@app.command()
def status(
    send_id: int = typer.Argument(..., help="The send's id."),
    follow_it: bool = typer.Option(False, "--follow", help="Progress bar until it ends."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """State of a send: counts per batch state, failed batches' errors, uncertain batches."""
    engine = database(settings())
    if follow_it and not as_json:
        follow(engine, send_id, err)
    current = send_control.progress(engine, send_id)
    if as_json:
        print_json(current.as_dict())
    else:
        render_status(current, Console())


@app.command()
def cancel(send_id: int = typer.Argument(...)) -> None:
    """Cancel a send: nothing more goes out (batches in flight finish)."""
    state = send_actions.act(database(settings()), cli_principal(), send_id, "cancel", now())
    typer.echo(f"send {send_id}: {state}")


@app.command()
def pause(send_id: int = typer.Argument(...)) -> None:
    """Pause a send: pending batches wait, batches in flight finish."""
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
    cfg = settings()
    state = send_actions.act(
        database(cfg), cli_principal(), send_id, "resume", now(), resend_uncertain
    )
    typer.echo(f"send {send_id}: {state}")
    if state == "sending":
        from mailer.tasks.sending import kick

        kick(send_id, cfg)
    elif state == "scheduled":
        _dispatch_if_due(send_id, cfg)


@app.command()
def worker(
    queues: str = typer.Option("sends,messages,events", "--queues", "-Q"),
    concurrency: int = typer.Option(2, "--concurrency", "-c"),
    pool: str = typer.Option("prefork", "--pool", help="prefork, threads or solo."),
) -> None:
    """Run a Celery worker (needs REDIS_URL)."""
    cfg = settings()
    if cfg.REDIS_URL is None:
        raise NewsletterError("worker needs REDIS_URL (without it, tasks run in-process)")
    configure_logging(cfg)
    from mailer.tasks.app import celery_app

    argv = ["worker", "-Q", queues, "--concurrency", str(concurrency), "--pool", pool]
    celery_app.worker_main([*argv, "--loglevel", "INFO"])


@app.command()
def scheduler() -> None:
    """Run the periodic dispatcher (Celery beat; an in-process loop without REDIS_URL)."""
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
