"""Accounts from the server's shell: users, API tokens and the audit log (trusted as owner)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import typer
from rich.console import Console
from rich.table import Table

from mailer.cli.apps import app
from mailer.cli.common import database, fail, print_json, settings
from mailer.core.errors import NewsletterError

users_app = typer.Typer(help="People who sign in to the workspace.", no_args_is_help=True)
tokens_app = typer.Typer(help="Bearer tokens for programs using the API.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")


def _now() -> datetime:
    return datetime.now(UTC)


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


def read_password(from_stdin: bool) -> str:
    """From stdin (first line) for scripts, else asked twice on the terminal."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        fail("no terminal to ask for the password: use --password-stdin")
    first = typer.prompt("password", hide_input=True)
    if typer.prompt("password again", hide_input=True) != first:
        fail("the two passwords differ")
    return str(first)


@users_app.command("add")
def users_add(
    email: str = typer.Argument(...),
    role: str = typer.Option(..., "--role", help="owner, editor or viewer."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read it from stdin."),
) -> None:
    """Add a person who can sign in at /admin/login."""
    from mailer.accounts.principal import cli_principal
    from mailer.accounts.users import add_user
    from subscribers.db import transaction

    engine = database(settings())
    password = read_password(password_stdin)
    with transaction(engine) as session:
        user = add_user(session, cli_principal(), email, role, password)
    typer.echo(f"added {user.email} ({user.role})")


@users_app.command("list")
def users_list(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Everyone with an account, their role and last sign-in."""
    from mailer.accounts.users import list_users
    from subscribers.db import transaction

    with transaction(database(settings())) as session:
        users = list_users(session)
    if as_json:
        print_json([{k: getattr(u, k) for k in u.__slots__} for u in users])
        return
    table = Table("email", "role", "state", "last sign-in")
    for u in users:
        state = "disabled" if u.disabled else "active"
        table.add_row(u.email, u.role, state, _when(u.last_sign_in_at))
    Console().print(table)


@users_app.command("disable")
def users_disable(email: str = typer.Argument(...)) -> None:
    """Stop someone signing in; their open sessions end now."""
    from mailer.accounts.principal import cli_principal
    from mailer.accounts.users import disable_user
    from subscribers.db import transaction

    with transaction(database(settings())) as session:
        user = disable_user(session, cli_principal(), email)
    typer.echo(f"disabled {user.email}")


@users_app.command("enable")
def users_enable(email: str = typer.Argument(...)) -> None:
    """Let a disabled person sign in again."""
    from mailer.accounts.principal import cli_principal
    from mailer.accounts.users import enable_user
    from subscribers.db import transaction

    with transaction(database(settings())) as session:
        user = enable_user(session, cli_principal(), email)
    typer.echo(f"enabled {user.email}")


@users_app.command("role")
def users_role(
    email: str = typer.Argument(...),
    role: str = typer.Argument(..., help="owner, editor or viewer."),
) -> None:
    """Change someone's role (never the last active owner's to a lesser one)."""
    from mailer.accounts.principal import cli_principal
    from mailer.accounts.users import set_role
    from subscribers.db import transaction

    with transaction(database(settings())) as session:
        user = set_role(session, cli_principal(), email, role)
    typer.echo(f"{user.email} is now {user.role}")


@tokens_app.command("create")
def tokens_create(
    name: str = typer.Argument(..., help="What the token is for, e.g. cms."),
    role: str = typer.Option(..., "--role", help="editor or viewer."),
) -> None:
    """Create a token and print it once (only its hash is kept)."""
    from mailer.accounts.principal import cli_principal
    from mailer.accounts.tokens import create_token
    from subscribers.db import transaction

    with transaction(database(settings())) as session:
        secret = create_token(session, cli_principal(), name, role)
    typer.echo(secret)
    Console(stderr=True).print("keep it now: it is not shown again")


@tokens_app.command("list")
def tokens_list(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Tokens with role, creation, last use and revocation."""
    from mailer.accounts.tokens import list_tokens
    from subscribers.db import transaction

    with transaction(database(settings())) as session:
        tokens = list_tokens(session)
    if as_json:
        print_json([{k: getattr(t, k) for k in t.__slots__} for t in tokens])
        return
    table = Table("name", "role", "created", "last used", "revoked")
    for t in tokens:
        table.add_row(
            t.name, t.role, _when(t.created_at), _when(t.last_used_at), _when(t.revoked_at)
        )
    Console().print(table)


@tokens_app.command("revoke")
def tokens_revoke(name: str = typer.Argument(...)) -> None:
    """Revoke a token: its next request is refused."""
    from mailer.accounts.principal import cli_principal
    from mailer.accounts.tokens import revoke_token
    from subscribers.db import transaction

    with transaction(database(settings())) as session:
        revoke_token(session, cli_principal(), name, _now())
    typer.echo(f"revoked {name}")


@app.command("audit")
def audit_cmd(
    since: str | None = typer.Option(None, "--since", help="ISO date or time, e.g. 2026-12-01."),
    limit: int = typer.Option(1000, "--limit", min=1, help="At most this many, the newest."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Who wrote what, when and from where: every write through the API, pages and CLI."""
    from mailer.accounts import audit
    from subscribers.db import transaction

    start = _since(since) if since else None
    with transaction(database(settings())) as session:
        lines = audit.entries(session, start, limit)
    if as_json:
        print_json([{k: getattr(line, k) for k in line.__slots__} for line in lines])
        return
    for line in lines:
        when = line.at.isoformat(timespec="seconds")
        where = f" from {line.ip}" if line.ip else ""
        detail = f" ({line.detail})" if line.detail else ""
        what = f"{line.action} {line.object}{detail}"
        typer.echo(f"{when} {line.actor_kind}:{line.actor} {what}{where}")


def _since(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise NewsletterError(f"--since: {value!r} is not an ISO date or time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
