"""Alembic environment: the URL comes from the caller (mailer.ops.migrate), not alembic.ini."""

from alembic import context
from sqlalchemy import pool

import mailer.accounts.models
import mailer.core.models  # noqa: F401  (registers the send tables)
import subscribers.models  # noqa: F401
from subscribers.db import Base, make_engine
from subscribers.search import is_search_index

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "", poolclass=pool.NullPool)
    with engine.connect() as conn:
        _run(conn)


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        include_name=_declared,
    )
    with context.begin_transaction():
        context.run_migrations()


def _declared(name, _kind, _parents) -> bool:
    # the subscriber search's FTS5 tables and trigram indexes have no model (migration 0013)
    return not is_search_index(name)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
