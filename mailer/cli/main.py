"""Entry point of the `newsletter` command: wires the command modules and maps domain errors."""

from __future__ import annotations

import sys

import typer

from mailer.cli import (  # noqa: F401  (each module attaches its commands)
    account_cmds,
    erase_cmds,
    list_cmds,
    ops_cmds,
    preview_cmds,
    render_cmds,
    report_cmds,
    send_cmds,
    send_create_cmds,
    subscriber_cmds,
    web_cmds,
)
from mailer.cli.apps import app
from mailer.cli.common import database, settings
from mailer.core.errors import NewsletterError
from subscribers.errors import SubscriberError


@app.command()
def init() -> None:
    """Create the database or migrate it to the newest schema."""
    from mailer.ops.migrate import upgrade

    cfg = settings()
    engine = database(cfg, migrate=False)
    upgrade(engine)
    typer.echo(f"database ready: {engine.url.render_as_string(hide_password=True)}")


def main() -> None:
    try:
        app()
    except (NewsletterError, SubscriberError) as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
