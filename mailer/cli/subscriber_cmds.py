"""Subscriber, list and segment commands."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn
from rich.table import Table
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from mailer.accounts import audit
from mailer.accounts.principal import cli_principal
from mailer.cli.apps import app, segment_app, subscribers_app
from mailer.cli.common import database, fail, print_json, settings
from subscribers.db import transaction
from subscribers.errors import SubscriberError
from subscribers.exporter import export_csv
from subscribers.importer import ImportResult, import_csv
from subscribers.lists import list_id_of
from subscribers.models import MailingList, Membership, Subscriber
from subscribers.segments import parse
from subscribers.status import unsubscribe_everywhere, unsubscribe_from_list
from subscribers.store import add_subscriber, find_list, find_subscriber, list_counts, segment_count

err = Console(stderr=True)


@contextmanager
def _domain_errors() -> Iterator[None]:
    """A SubscriberError (bad row file, bad segment, unknown list) is one line and exit 1."""
    try:
        yield
    except SubscriberError as exc:
        fail(str(exc))


def _engine() -> Engine:
    return database(settings())


@subscribers_app.command("import")
def import_(
    file: Path = typer.Argument(..., help="CSV with a header row and an email column."),
    list_name: str | None = typer.Option(None, "--list", help="Also subscribe everyone to it."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Import subscribers; rejected rows go to FILE.rejected.csv with line and reason."""
    engine = _engine()
    with _domain_errors(), _progress(file) as progress:
        result = import_csv(engine, file, list_name, progress=progress)
    with transaction(engine) as session:
        detail = f"added={result.added} updated={result.updated} rejected={result.rejected}"
        audit.record(session, cli_principal(), "subscribers.import", str(file)[-200:], detail)
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
    engine = _engine()
    with _domain_errors():
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
    engine = _engine()
    with _domain_errors(), transaction(engine) as session:
        existed = find_subscriber(session, email) is not None
        person = add_subscriber(
            session, email, name=name, list_names=list_names, tags=tags, timezone=timezone
        )
        verb = "updated" if existed else "added"
        audit.record(
            session, cli_principal(), f"subscriber.{verb[:-1]}", f"subscriber #{person.id}"
        )
        typer.echo(f"{verb} {person.email} ({person.status})")


@subscribers_app.command("show")
def show(
    email: str = typer.Argument(...),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Show one subscriber: status, lists, tags, attributes, consent."""
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
    engine = _engine()
    with _domain_errors(), transaction(engine) as session:
        person = find_subscriber(session, email)
        if person is None:
            raise SubscriberError(f"no subscriber with email {email!r}")
        if list_name:
            found = find_list(session, list_name)
            if found is None:
                raise SubscriberError(f"no list named {list_name!r}")
            changed = unsubscribe_from_list(session, person.id, found.id, "cli")
            where = f"from {found.name}"
        else:
            changed = unsubscribe_everywhere(session, person.id, "cli")
            where = "from every list"
        audit.record(session, cli_principal(), "subscriber.unsubscribe", f"subscriber #{person.id}")
    typer.echo(f"{person.email} unsubscribed {where}" if changed else "nothing to change")


@app.command("lists")
def lists(as_json: bool = typer.Option(False, "--json", help="Print a JSON array.")) -> None:
    """Lists with their active subscriber counts."""
    engine = _engine()
    with Session(engine) as session:
        counts = list_counts(session)
    if as_json:
        print_json([{"name": name, "active": count, "count": count} for name, count in counts])
        return
    table = Table("list", "active")
    for name, count in counts:
        table.add_row(name, str(count))
    Console().print(table)


@segment_app.command("count")
def count(
    expr: str = typer.Argument(..., help='e.g. tags has "investors" and attr.country = "FR"'),
    list_name: str | None = typer.Option(None, "--list", help="Only members of this list."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """How many active subscribers (of the list, when given) match the segment."""
    engine = _engine()
    with _domain_errors(), Session(engine) as session:
        parse(expr)
        matched = segment_count(session, expr, list_id_of(session, list_name))
    if as_json:
        print_json({"count": matched, "segment": expr, "list": list_name})
    else:
        typer.echo(str(matched))
