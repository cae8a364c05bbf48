"""The report and suppressions commands."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from mailer.cli.apps import app, suppressions_app
from mailer.cli.common import database, fail, print_json, settings
from mailer.core.errors import NewsletterError

_TOTALS = {"opened": "opened_total", "clicked": "clicked_total", "forwarded": "forwarded_friends"}


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.2%}"


def print_report(report: dict[str, Any], console: Console | None = None) -> None:
    """The human table: figures with rates, top links, busiest hours, warnings."""
    from mailer.events.report import PER_DELIVERED, PER_SENT

    console = console or Console()
    table = Table(title=f"Send {report['send_id']}: {report['subject']} ({report['state']})")
    for column in ("", "count", "rate", "of", "total"):
        table.add_column(column, justify="left" if not column else "right")
    for name in ("sent", *PER_SENT, *PER_DELIVERED):
        total = report.get(_TOTALS.get(name, ""), "")
        basis = report["rate_basis"].get(name, "")
        rate = _rate(report.get(f"{name}_rate")) if basis else ""
        table.add_row(name.replace("_", " "), str(report[name]), rate, basis, str(total))
    console.print(table)
    if report["top_links"]:
        links = Table(title="Top clicked links")
        for column in ("url", "clicks", "unique"):
            links.add_column(column)
        for link in report["top_links"]:
            links.add_row(link["url"], str(link["clicks"]), str(link["unique"]))
        console.print(links)
    busiest = sorted(report["hourly"], key=lambda row: -row["total"])[:5]
    if busiest and busiest[0]["total"]:
        hours = ", ".join(f"h{row['hour']}: {row['total']}" for row in busiest if row["total"])
        console.print(f"busiest hours after the start (events): {hours}")
    for warning in report["warnings"]:
        console.print(f"[bold red]warning:[/] {warning}")


@app.command()
def report(
    send_id: int = typer.Argument(..., help="The send's id (see `newsletter sends`)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Sent, delivered, bounced, complained, opened, clicked, unsubscribed, forwarded, referred."""
    from mailer.events.report import Thresholds
    from mailer.events.report_queries import send_report
    from subscribers.db import transaction

    cfg = settings()
    engine = database(cfg)
    with transaction(engine) as session:
        try:
            result = send_report(session, send_id, Thresholds.from_settings(cfg))
        except NewsletterError as exc:
            fail(str(exc))
    if as_json:
        print_json(result)
    else:
        print_report(result)


@suppressions_app.command("sync")
def sync_suppressions(
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Pull SendGrid's bounce, spam-report and global-unsubscribe lists and apply them."""
    from mailer.events.suppressions import sync
    from mailer.transport.base import TransportError
    from mailer.transport.sendgrid import SendGridTransport

    cfg = settings()
    if not cfg.SENDGRID_API_KEY:
        fail("SENDGRID_API_KEY is not set: there is no SendGrid account to sync from")
    transport = SendGridTransport(
        cfg.SENDGRID_API_KEY, cfg.SENDGRID_API_HOST, cfg.SENDGRID_TIMEOUT_SECONDS
    )
    try:
        results = sync(database(cfg), transport, datetime.now(UTC))
    except TransportError as exc:
        fail(f"SendGrid suppression lists: {exc}")
    summary = {kind: vars_of(result) for kind, result in results.items()}
    if as_json:
        print_json(summary)
        return
    for kind, counts in summary.items():
        typer.echo(
            f"{kind}: {counts['fetched']} on SendGrid, {counts['matched']} known here, "
            f"{counts['changed']} changed"
        )


def vars_of(result: Any) -> dict[str, int]:
    return {name: getattr(result, name) for name in ("fetched", "matched", "changed")}
