"""`newsletter subscribers delete EMAIL --erase`: the right to erasure from the shell."""

from __future__ import annotations

import typer

from mailer.cli.apps import subscribers_app
from mailer.cli.common import database, fail, settings


@subscribers_app.command("delete")
def delete(
    email: str = typer.Argument(...),
    erase: bool = typer.Option(False, "--erase", help="Required: remove their data for good."),
) -> None:
    """Erase a person: name, attributes, tags and event data go; counts of past sends stay."""
    from mailer.accounts.principal import cli_principal
    from mailer.workspace import people
    from subscribers.db import transaction

    if not erase:
        fail("deleting someone erases their data for good: add --erase to confirm")
    with transaction(database(settings())) as session:
        subscriber_id = people.erase(session, cli_principal(), email)
    typer.echo(f"erased subscriber #{subscriber_id}")
