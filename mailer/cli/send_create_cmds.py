"""`newsletter send`: check, confirm, store and announce a send (or send test copies).

Every guard runs before anything is stored or sent: the list and segment, an empty audience,
the same issue already sent to that list (`--again`), readers already past a `--local-time`
wall clock (`--late-ok`), lint errors, and, for a send that goes out now, a question on a
terminal (`--yes` answers it; without a terminal and without `--yes` the send is refused, so
a script never sends by surprise).
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from mailer.cli.apps import app
from mailer.cli.common import database, fail, settings
from mailer.cli.issue_input import STDIN_SOURCE, base_dir, read_issue
from mailer.core.errors import NewsletterError

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from mailer.core.settings import Settings
    from mailer.sending.create import Frozen
    from mailer.sending.schedule import When

err = Console(stderr=True, soft_wrap=True)  # one message, one line: greppable


def now() -> datetime:
    return datetime.now(UTC)


def render_frozen(text: str, source: str, cfg: Settings) -> Frozen:
    """Parse and render the issue once; lint errors stop here, warnings are printed."""
    from mailer.issue.parse import parse_issue_text
    from mailer.issue.render import Branding, render_issue
    from mailer.sending.create import Frozen

    issue = parse_issue_text(text, source=source, base_dir=base_dir(source))
    rendered = render_issue(issue, Branding.from_settings(cfg))
    for warning in rendered.warnings:
        err.print(f"warning: {warning}", markup=False, highlight=False)
    if rendered.errors:
        raise NewsletterError("; ".join(rendered.errors) + " (fix these before sending)")
    return Frozen(
        subject=rendered.subject,
        preheader=rendered.preheader,
        slug=rendered.slug,
        html=rendered.html,
        text=rendered.text,
        issue_date=issue.date.isoformat() if issue.date else None,
        source_path="" if source == STDIN_SOURCE else source,
    )


@app.command()
def send(
    issue: str = typer.Argument(
        ..., help="The issue file (Markdown with front matter); - reads stdin."
    ),
    list_name: str = typer.Option(None, "--list", help="The list to send to."),
    segment: str = typer.Option(None, "--segment", help="Only subscribers matching EXPR."),
    at: str = typer.Option(None, "--at", help='ISO 8601 or "monday 08:00" (NEWSLETTER_TIMEZONE).'),
    local_time: bool = typer.Option(False, "--local-time", help="At that time in each zone."),
    test_to: list[str] = typer.Option(
        [], "--test-to", help="Test copy to this address (repeatable)."
    ),
    wait: bool = typer.Option(False, "--wait", help="Show a progress bar until done."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask before sending now."),
    again: bool = typer.Option(False, "--again", help="Allow an issue this list already got."),
    late_ok: bool = typer.Option(
        False, "--late-ok", help="--local-time: readers already past the time get it at once."
    ),
) -> None:
    """Create a send of ISSUE to a list (or test copies) and print its id."""
    from subscribers.errors import SubscriberError

    try:
        _send(issue, list_name, segment, at, local_time, test_to, wait, yes, again, late_ok)
    except (NewsletterError, SubscriberError) as exc:
        fail(str(exc))


def _send(
    issue: str,
    list_name: str | None,
    segment: str | None,
    at: str | None,
    local_time: bool,
    test_to: list[str],
    wait: bool,
    yes: bool,
    again: bool,
    late_ok: bool,
) -> None:
    cfg = settings()
    if test_to:
        _refuse_with_test(list_name, segment, at, local_time)
        _send_tests(cfg, issue, test_to)
        return
    if not list_name:
        raise NewsletterError("--list is required (or --test-to EMAIL for test copies)")
    if local_time and not at:
        raise NewsletterError('--local-time needs --at (the wall-clock time, e.g. "monday 08:00")')
    when = _when(at, cfg)
    engine = database(cfg)
    send_id = _checked_send(
        cfg, engine, issue, list_name, segment, when, local_time, yes, again, late_ok
    )
    if wait:
        from mailer.cli.send_view import follow

        follow(engine, send_id, err)


def _checked_send(  # every guard in order, then the send is stored, announced and dispatched
    cfg: Settings,
    engine: Engine,
    issue: str,
    list_name: str,
    segment: str | None,
    when: When | None,
    local_time: bool,
    yes: bool,
    again: bool,
    late_ok: bool,
) -> int:
    from mailer.sending.create import check_audience, check_repeat, create_send

    text, source = read_issue(issue)
    if segment:
        _segment_hints(engine, list_name, segment)
    list_id, reach = check_audience(engine, list_name, segment)  # before anything is stored
    frozen = render_frozen(text, source, cfg)
    if not again:
        check_repeat(engine, frozen, list_id)
    if local_time and when is not None:
        _local_feedback(engine, cfg, list_id, segment, when.wall, late_ok)
    elif when is None or when.at <= now():
        _confirm(reach, yes)
    frozen = _store_issue(engine, cfg, text, frozen)
    send_id = create_send(
        engine, cfg, frozen, list_id, segment, when, local_time, now(), again=again
    )
    _audit_send(engine, send_id, frozen, list_name, reach)
    typer.echo(send_id)
    _announce(send_id, reach, when, local_time, cfg)
    _dispatch_if_due(engine, send_id)
    return send_id


def _store_issue(engine: Engine, cfg: Settings, text: str, frozen: Frozen) -> Frozen:
    """Every send names a stored issue (the workspace and the API list them)."""
    from dataclasses import replace

    from mailer.accounts.principal import cli_principal
    from mailer.issue.render import Branding
    from mailer.issue.store import create_issue
    from subscribers.db import transaction

    with transaction(engine) as session:
        row = create_issue(
            session,
            cli_principal(),
            text,
            Branding.from_settings(cfg),
            source_path=frozen.source_path,
        )
        return replace(frozen, issue_id=row.id)


def _audit_send(engine: Engine, send_id: int, frozen: Frozen, list_name: str, reach: int) -> None:
    from mailer.accounts import audit
    from mailer.accounts.principal import cli_principal
    from subscribers.db import transaction

    detail = f"issue={frozen.issue_id} list={list_name} recipients={reach}"
    with transaction(engine) as session:
        audit.record(session, cli_principal(), "send.create", f"send {send_id}", detail)


def _refuse_with_test(
    list_name: str | None, segment: str | None, at: str | None, local: bool
) -> None:
    """Test copies go to the given addresses now: options about an audience or a time would
    be silently meaningless, so they are refused."""
    given = [
        name
        for name, value in (("--list", list_name), ("--segment", segment), ("--at", at))
        if value
    ] + (["--local-time"] if local else [])
    if given:
        raise NewsletterError(
            f"--test-to sends test copies now, to those addresses only: drop {', '.join(given)}"
        )


def _segment_hints(engine: Engine, list_name: str, segment: str) -> None:
    """Warn about attribute keys and tags nobody on the list has (before a refusal of 0)."""
    from sqlalchemy.orm import Session

    from subscribers.segment_hints import segment_warnings
    from subscribers.segments import parse
    from subscribers.store import find_list

    parse(segment)  # a bad expression is refused below, naming its column
    with Session(engine) as session:
        found = find_list(session, list_name)
        hints = segment_warnings(session, segment, found.id) if found else []
    for hint in hints:
        err.print(f"warning: {hint}", markup=False, highlight=False)


def _when(at: str | None, cfg: Settings) -> When | None:
    from mailer.sending.schedule import ensure_future, parse_when

    if not at:
        return None
    when = parse_when(at, cfg.NEWSLETTER_TIMEZONE, now())
    ensure_future(when, now())
    return when


def is_terminal() -> bool:
    return sys.stdin.isatty()


def _confirm(reach: int, yes: bool) -> None:
    """Ask before a send that goes out now; refuse without a terminal to ask on."""
    if yes:
        return
    people = f"{reach} {'person' if reach == 1 else 'people'}"
    if not is_terminal():
        raise NewsletterError(
            f"this send goes out now to {people}: add --yes to confirm "
            "(there is no terminal to ask on), or --at to schedule it"
        )
    if not typer.confirm(f"Send to {people} now?", default=False, err=True):
        raise NewsletterError("not sent: nothing was stored")


def _local_feedback(
    engine: Engine, cfg: Settings, list_id: int, segment: str | None, wall: datetime, late_ok: bool
) -> None:
    from mailer.sending.timing import both_clocks, local_spread, refuse_late

    spread = local_spread(engine, list_id, segment, wall, cfg.NEWSLETTER_TIMEZONE, now())
    if not late_ok:
        refuse_late(spread, wall)
    zone = cfg.NEWSLETTER_TIMEZONE
    err.print(
        f"delivers at {wall:%a %Y-%m-%d %H:%M} in each reader's timezone: first "
        f"{both_clocks(spread.first, zone)} for {spread.first_zone}, last "
        f"{both_clocks(spread.last, zone)} for {spread.last_zone}",
        markup=False,
        highlight=False,
    )
    if spread.late:
        err.print(f"{spread.late} reader(s) already past that time get it at once (--late-ok)")


def _announce(send_id: int, reach: int, when: When | None, local: bool, cfg: Settings) -> None:
    from mailer.sending.timing import both_clocks

    people = f"{reach} subscriber{'' if reach == 1 else 's'} match now"
    if when is None or (when.at <= now() and not local):
        err.print(f"send {send_id} starting now: {people}")
        return
    if local:
        err.print(f"send {send_id} scheduled at {when.wall:%a %Y-%m-%d %H:%M} local time: {people}")
    else:
        at = both_clocks(when.at, cfg.NEWSLETTER_TIMEZONE)
        err.print(f"send {send_id} scheduled for {at}: {people}", markup=False, highlight=False)
    if cfg.REDIS_URL is None:
        err.print("it goes out while `newsletter scheduler` runs (no REDIS_URL: in-process)")


def _dispatch_if_due(engine: Engine, send_id: int) -> None:
    """A send due now starts at once; later ones wait for the scheduler's periodic check."""
    from mailer.sending import control as send_control
    from mailer.tasks.sending import start_send

    send = send_control.get_send(engine, send_id)
    if send.scheduled_at is not None and send.scheduled_at <= now():
        start_send.delay(send_id)


def _send_tests(cfg: Settings, issue: str, addresses: list[str]) -> None:
    from email_validator import EmailNotValidError, validate_email

    from mailer.sending.create import send_test_copy
    from mailer.transport.factory import make_transport

    for to in addresses:
        try:
            validate_email(to, check_deliverability=False)
        except EmailNotValidError as exc:
            raise NewsletterError(f"--test-to {to}: {exc}") from exc
    text, source = read_issue(issue)
    frozen = render_frozen(text, source, cfg)
    engine = database(cfg)
    send_id, message_id = send_test_copy(engine, cfg, make_transport(cfg), frozen, addresses, now())
    typer.echo(send_id)
    err.print(f"test copy sent to {', '.join(addresses)} (message id {message_id})")
