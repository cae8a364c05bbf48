"""Operations commands: `newsletter doctor` checks a deployment before it sends."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from mailer.cli.apps import app
from mailer.cli.common import print_json, settings

if TYPE_CHECKING:
    from mailer.ops.doctor import Check

STYLES = {"OK": "green", "WARN": "yellow", "FAIL": "bold red"}


@app.command()
def doctor(
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead."),
) -> None:
    """Check the configuration and services for production; exits 1 if anything FAILs."""
    from mailer.ops.doctor import failed
    from mailer.ops.probes import run_all  # the probes import every service's client

    checks = run_all(settings())
    if as_json:
        print_json({"ok": not failed(checks), "checks": [c.as_dict() for c in checks]})
    else:
        _print_table(checks)
    if failed(checks):
        raise typer.Exit(1)


def _print_table(checks: list[Check]) -> None:
    from mailer.ops.doctor import Level

    table = Table(title="newsletter doctor", show_lines=False)
    for column in ("check", "status", "detail", "what to do"):
        table.add_column(column, overflow="fold")
    for check in checks:
        status = f"[{STYLES[check.status]}]{check.status}[/]"
        table.add_row(check.name, status, check.detail, check.fix)
    console = Console()
    console.print(table)
    fails = sum(c.status is Level.FAIL for c in checks)
    warns = sum(c.status is Level.WARN for c in checks)
    verdict = "not ready for production" if fails else "ready"
    console.print(f"{fails} FAIL, {warns} WARN: {verdict}")
