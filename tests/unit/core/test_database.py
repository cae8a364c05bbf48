"""The engine long-running processes build: pool sizes and PgBouncer mode on PostgreSQL."""

from __future__ import annotations

from sqlalchemy import text

from mailer.core.database import engine_options, settings_engine
from mailer.core.settings import Settings


def test_the_pool_follows_the_settings_on_postgresql_only(settings: Settings) -> None:
    pg = settings.model_copy(
        update={
            "DATABASE_URL": "postgresql+psycopg://u@db/news",
            "DATABASE_POOL_SIZE": 2,
            "DATABASE_MAX_OVERFLOW": 1,
        }
    )
    assert engine_options(pg) == {"pool_size": 2, "max_overflow": 1}
    bouncer = pg.model_copy(update={"DATABASE_PGBOUNCER": True})
    assert engine_options(bouncer)["connect_args"] == {"prepare_threshold": None}
    sqlite = settings.model_copy(update={"DATABASE_URL": "sqlite:///var/x.db"})
    assert engine_options(sqlite) == {}


def test_pgbouncer_mode_prepares_nothing_on_the_server(settings: Settings) -> None:
    engine = settings_engine(settings.model_copy(update={"DATABASE_PGBOUNCER": True}))
    try:
        with engine.connect() as conn:
            for _ in range(10):  # psycopg prepares a statement from its 5th execution on
                assert conn.execute(text("SELECT 1")).scalar_one() == 1
            if conn.dialect.name == "postgresql":
                prepared = conn.execute(text("SELECT count(*) FROM pg_prepared_statements"))
                assert prepared.scalar_one() == 0
    finally:
        engine.dispose()
