"""`newsletter lists`: the lists with their counts, and create / rename / edit / delete."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from mailer.cli.apps import app
from mailer.cli.common import database, print_json, settings
from mailer.cli.subscriber_cmds import domain_errors

lists_app = typer.Typer(
    help="Mailing lists: without a command, the lists with their active counts.",
    invoke_without_command=True,
)
app.add_typer(lists_app, name="lists")


@lists_app.callback()
def lists(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array."),
) -> None:
    """Lists with their active subscriber counts (or a command below)."""
    if ctx.invoked_subcommand is not None:
        return
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from subscribers.models import MailingList
    from subscribers.store import list_counts

    with Session(database(settings())) as session:
        counts = list_counts(session)
        flags = session.execute(select(MailingList.name, MailingList.public)).all()
        public = {name: bool(flag) for name, flag in flags}
    if as_json:
        rows = [
            {"name": name, "active": count, "count": count, "public": public.get(name, True)}
            for name, count in counts
        ]
        print_json(rows)
        return
    table = Table("list", "active", "visibility")
    for name, count in counts:
        table.add_row(name, str(count), "public" if public.get(name, True) else "private")
    Console().print(table)


@lists_app.command("create")
def create(
    name: str = typer.Argument(..., help="The list's name, as editors type it (no spaces)."),
    title: str = typer.Option("", "--title", help="The name readers see on the pages."),
    private: bool = typer.Option(False, "--private", help="Not on /subscribe nor /p."),
) -> None:
    """Create a list (public unless --private)."""
    from subscribers.db import transaction
    from subscribers.lists import create_list

    with domain_errors(), transaction(database(settings())) as session:
        created = create_list(session, name, title, not private)
        kind = "public" if created.public else "private"
    typer.echo(f"created {kind} list {created.name}")


@lists_app.command("rename")
def rename(old: str = typer.Argument(...), new: str = typer.Argument(...)) -> None:
    """Rename a list; its members, sends and reports stay with it."""
    from subscribers.db import transaction
    from subscribers.lists import rename_list

    with domain_errors(), transaction(database(settings())) as session:
        renamed = rename_list(session, old, new)
    typer.echo(f"renamed list {old} to {renamed.name}")


@lists_app.command("edit")
def edit(
    name: str = typer.Argument(...),
    title: str | None = typer.Option(None, "--title", help="The name readers see."),
    private: bool | None = typer.Option(
        None, "--private/--public", help="Hide it from /subscribe and /p, or show it."
    ),
) -> None:
    """Change a list's title or visibility."""
    from subscribers.db import transaction
    from subscribers.lists import edit_list

    with domain_errors(), transaction(database(settings())) as session:
        found = edit_list(session, name, title, None if private is None else not private)
        kind = "public" if found.public else "private"
    typer.echo(f"list {found.name}: {kind}, title {found.title!r}")


@lists_app.command("delete")
def delete(name: str = typer.Argument(...)) -> None:
    """Delete a list no send went to; its people stay subscribers (of their other lists)."""
    from subscribers.db import transaction
    from subscribers.lists import delete_list

    with domain_errors(), transaction(database(settings())) as session:
        members = delete_list(session, name)
    typer.echo(f"deleted list {name} ({members} membership(s) removed)")
