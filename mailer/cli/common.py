"""Shared edges of the CLI: settings, the database, one-line errors and JSON output."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any, NoReturn

import typer

if TYPE_CHECKING:  # `newsletter --help` must not pay for pydantic, SQLAlchemy or Alembic
    from sqlalchemy import Engine

    from mailer.core.settings import Settings


def fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def settings() -> Settings:
    from pydantic import ValidationError

    from mailer.core.settings import load_settings

    try:
        return load_settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        fail(f"configuration: {where}: {first['msg']}")


def database(cfg: Settings, migrate: bool = True) -> Engine:
    """Open the database, creating or migrating it first so every command just works."""
    from mailer.ops.migrate import current_revision, upgrade
    from subscribers.db import make_engine

    engine = make_engine(cfg.DATABASE_URL)
    if migrate and current_revision(engine) is None:
        upgrade(engine)
    return engine


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, default=str, ensure_ascii=False) + "\n")
