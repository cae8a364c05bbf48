"""Subscriber, list and segment commands."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.table import Table

from mailer.cli.apps import segment_app, subscribers_app
from mailer.cli.common import database, fail, print_json, settings
from subscribers.errors import SubscriberError

if TYPE_CHECKING:  # SQLAlchemy is imported by the commands that run, not by `--help`
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session

    from subscribers.importer import ImportResult
    from subscribers.models import Subscriber

err = Console(stderr=True)


@contextmanager
def domain_errors() -> Iterator[None]:
    """A SubscriberError (bad row file, bad segment, unknown list) is one line and exit 1."""
    try:
        yield
    except SubscriberError as exc:
        fail(str(exc))


def _audit(session: Session, action: str, what: str, detail: str = "") -> None:
    from mailer.accounts import audit
    from mailer.accounts.principal import cli_principal

    audit.record(session, cli_principal(), action, what, detail)


def _engine() -> Engine:
    return database(settings())


@subscribers_app.command("import")
def import_(
    file: Path = typer.Argument(..., help="CSV with a header row and an email column."),
    list_name: str | None = typer.Option(None, "--list", help="Also subscribe everyone to it."),
    create_list: bool = typer.Option(
        False, "--create-list", help="Create the --list when it does not exist (public)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Import subscribers; rejected rows go to FILE.rejected.csv with line and reason."""
    from subscribers.db import transaction
    from subscribers.importer import import_csv

    engine = _engine()
    with domain_errors(), _progress(file) as progress:
        result = import_csv(engine, file, list_name, progress=progress, create_list=create_list)
    with transaction(engine) as session:
        detail = f"added={result.added} updated={result.updated} rejected={result.rejected}"
        _audit(session, "subscribers.import", str(file)[-200:], detail)
    if as_json:
        print_json(result.as_dict())
    else:
        _print_import(result)


@contextmanager
def _progress(file: Path) -> Iterator[Any]:
    """A progress bar on a terminal only; scripts and pipes get none."""
    if not err.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    columns = (BarColumn(), DownloadColumn(), TimeRemainingColumn())
    with Progress("importing", *columns, console=err, transient=True) as bar:
        task = bar.add_task("import", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield advance


def _print_import(result: ImportResult) -> None:
    typer.echo(
        f"{result.rows} rows: {result.added} added, {result.updated} updated, "
        f"{result.unchanged} unchanged, {result.rejected} rejected"
    )
    if result.duplicates:
        typer.echo(f"{result.duplicates} rows repeated an earlier email and were merged into it")
    if result.status_kept:
        typer.echo(
            f"{result.status_kept} rows asked to re-activate someone unsubscribed, bounced "
            "or complained (or to demote a status): their status was kept"
        )
    if result.rejected_file:
        typer.echo(f"rejected rows, with line and reason: {result.rejected_file}")


@subscribers_app.command("export")
def export(
    list_name: str | None = typer.Option(None, "--list", help="Only people on this list."),
    segment: str | None = typer.Option(None, "--segment", help="Only active people matching."),
    out: Path | None = typer.Option(None, "--out", help="Write here instead of stdout."),
) -> None:
    """Export subscribers as CSV with the import's columns."""
    from subscribers.exporter import export_csv
    from subscribers.segments import parse

    engine = _engine()
    with domain_errors():
        if segment:
            parse(segment)  # refuse a bad expression before creating the file
        if out is None:
            export_csv(engine, sys.stdout, list_name, segment)
            return
        with out.open("w", encoding="utf-8", newline="") as stream:
            count = export_csv(engine, stream, list_name, segment)
    err.print(f"{count} subscriber{'' if count == 1 else 's'} written to {out}")


@subscribers_app.command("add")
def add(
    email: str = typer.Argument(...),
    name: str = typer.Option("", "--name", help="Display name."),
    list_names: list[str] = typer.Option([], "--list", help="List to subscribe to (repeatable)."),
    tags: list[str] = typer.Option([], "--tag", help="Tag (repeatable)."),
    timezone: str | None = typer.Option(None, "--timezone", help="IANA name, e.g. Europe/Paris."),
) -> None:
    """Add a subscriber, or add tags and lists to one already there."""
    from subscribers.db import transaction
    from subscribers.store import add_subscriber, find_subscriber

    engine = _engine()
    with domain_errors(), transaction(engine) as session:
        existed = find_subscriber(session, email) is not None
        person = add_subscriber(
            session, email, name=name, list_names=list_names, tags=tags, timezone=timezone
        )
        verb = "updated" if existed else "added"
        _audit(session, f"subscriber.{verb[:-1]}", f"subscriber #{person.id}")
        typer.echo(f"{verb} {person.email} ({person.status})")


@subscribers_app.command("show")
def show(
    email: str = typer.Argument(...),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Show one subscriber: status, lists, tags, attributes, consent."""
    from sqlalchemy.orm import Session

    from subscribers.store import find_subscriber

    engine = _engine()
    with Session(engine) as session:
        person = find_subscriber(session, email)
        if person is None:
            fail(f"no subscriber with email {email!r}")
        details = _details(session, person)
    if as_json:
        print_json(details)
        return
    table = Table(show_header=False, box=None)
    for key, value in details.items():
        table.add_row(key, _plain(value))
    Console().print(table)


def _details(session: Session, person: Subscriber) -> dict[str, Any]:
    from sqlalchemy import select

    from subscribers.models import MailingList, Membership

    lists = session.execute(
        select(MailingList.name, Membership.status)
        .join(Membership, Membership.list_id == MailingList.id)
        .where(Membership.subscriber_id == person.id)
        .order_by(MailingList.name)
    )
    return {
        "id": person.id,
        "email": person.email,
        "name": person.name,
        "status": person.status,
        "timezone": person.timezone,
        "tags": person.tag_names,
        "lists": {name: state for name, state in lists},
        "attrs": person.attrs,
        "consent_source": person.consent_source,
        "consent_at": person.consent_at,
        "consent_ip": person.consent_ip,
        "created_at": person.created_at,
        "unsubscribed_at": person.unsubscribed_at,
        "status_reason": person.status_reason,
        "bounce_count": person.bounce_count,
        "soft_bounce_count": person.soft_bounce_count,
    }


def _plain(value: object) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items()) or "-"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "-"
    return "-" if value is None or value == "" else str(value)


@subscribers_app.command("unsubscribe")
def unsubscribe(
    email: str = typer.Argument(...),
    list_name: str | None = typer.Option(None, "--list", help="Leave only this list."),
) -> None:
    """Unsubscribe someone from everything (or from one list with --list)."""
    from subscribers.db import transaction
    from subscribers.lists import require_list
    from subscribers.status import unsubscribe_everywhere, unsubscribe_from_list
    from subscribers.store import find_subscriber

    engine = _engine()
    with domain_errors(), transaction(engine) as session:
        person = find_subscriber(session, email)
        if person is None:
            raise SubscriberError(f"no subscriber with email {email!r}")
        if list_name:
            found = require_list(session, list_name)
            changed = unsubscribe_from_list(session, person.id, found.id, "cli")
            where = f"from {found.name}"
        else:
            changed = unsubscribe_everywhere(session, person.id, "cli")
            where = "from every list"
        _audit(session, "subscriber.unsubscribe", f"subscriber #{person.id}")
    typer.echo(f"{person.email} unsubscribed {where}" if changed else "nothing to change")


@segment_app.command("count")
def count(
    expr: str = typer.Argument(..., help='e.g. tags has "investors" and attr.country = "FR"'),
    list_name: str | None = typer.Option(None, "--list", help="Only members of this list."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """How many active subscribers (of the list, when given) match the segment."""
    from sqlalchemy.orm import Session

    from subscribers.lists import require_list
    from subscribers.segment_hints import segment_warnings
    from subscribers.segments import parse
    from subscribers.store import segment_count

    engine = _engine()
    with domain_errors(), Session(engine) as session:
        parse(expr)
        list_id = None
        if list_name:
            list_id = require_list(session, list_name).id
        matched = segment_count(session, expr, list_id)
        hints = segment_warnings(session, expr, list_id)
    for hint in hints:
        typer.echo(f"warning: {hint}", err=True)
    if as_json:
        print_json({"count": matched, "segment": expr, "list": list_name})
    else:
        typer.echo(str(matched))
