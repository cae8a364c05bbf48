"""The engine a long-running process builds from its settings: pool size and PgBouncer mode.

Each process keeps its own pool. A solo Celery worker runs one task at a time and holds one
connection (two at most), a web process one per concurrent request; so PostgreSQL needs
`max_connections` >= processes x (DATABASE_POOL_SIZE + DATABASE_MAX_OVERFLOW) plus headroom for
the scheduler, migrations and psql. Past a few hundred, put PgBouncer (transaction pooling) in
front and set DATABASE_PGBOUNCER=true: psycopg then never prepares statements on the server,
which a pooled server connection would not keep between transactions.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from mailer.core.settings import Settings
from subscribers.db import make_engine


def engine_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for `make_engine`; nothing for SQLite (one file, one writer)."""
    if make_url(settings.DATABASE_URL).get_backend_name() != "postgresql":
        return {}
    options: dict[str, Any] = {
        "pool_size": settings.DATABASE_POOL_SIZE,
        "max_overflow": settings.DATABASE_MAX_OVERFLOW,
    }
    if settings.DATABASE_PGBOUNCER:
        options["connect_args"] = {"prepare_threshold": None}
    return options


def settings_engine(settings: Settings) -> Engine:
    return make_engine(settings.DATABASE_URL, **engine_options(settings))
