"""subscribers: a trigram index for the search by a part of an address or name

The workspace's and the API's subscriber search (`q`) matches a text anywhere in the address
or the name: without an index, a rare text (one person) read all of a million subscribers
(~0.5 s on SQLite). Now, on SQLite, an FTS5 table with the trigram tokenizer holds every
three-character piece of both columns (external content: the text itself stays in
`subscribers`), kept by triggers on every insert, update of those columns and delete, so
each write path (the ORM, the import's bulk INSERT, erasure, raw SQL) keeps it right. On
PostgreSQL, pg_trgm's GIN indexes on both columns (`subscribers.search` says how the page
uses them). See subscribers/search.py.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

from alembic import op

revision = "0013"
down_revision = "0012"  # after any SQLite batch rebuild of subscribers (it would drop triggers)
branch_labels = None
depends_on = None

_FTS = (
    "CREATE VIRTUAL TABLE subscriber_search USING fts5(email_norm, name, "
    "content='subscribers', content_rowid='id', tokenize='trigram')"
)
_ADD = "INSERT INTO subscriber_search (rowid, email_norm, name) VALUES (new.id, new.email_norm, new.name);"
_REMOVE = (
    "INSERT INTO subscriber_search (subscriber_search, rowid, email_norm, name) "
    "VALUES ('delete', old.id, old.email_norm, old.name);"
)
_SQLITE_TRIGGERS = {
    "subscribers_search_insert": f"AFTER INSERT ON subscribers BEGIN {_ADD} END",
    "subscribers_search_delete": f"AFTER DELETE ON subscribers BEGIN {_REMOVE} END",
    # only when a searched column changes: status and bounce updates cost nothing here
    "subscribers_search_update": (
        f"AFTER UPDATE OF email_norm, name ON subscribers BEGIN {_REMOVE} {_ADD} END"
    ),
}
_PG_INDEXES = (
    ("ix_subscribers_search_email", "email_norm"),
    ("ix_subscribers_search_name", "name"),
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for name, column in _PG_INDEXES:
            op.execute(f"CREATE INDEX {name} ON subscribers USING gin ({column} gin_trgm_ops)")
        return
    op.execute(_FTS)
    for name, body in _SQLITE_TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {body}")
    op.execute("INSERT INTO subscriber_search (subscriber_search) VALUES ('rebuild')")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, _column in _PG_INDEXES:
            op.execute(f"DROP INDEX {name}")
        return  # pg_trgm stays: other objects may use it
    for name in _SQLITE_TRIGGERS:
        op.execute(f"DROP TRIGGER {name}")
    op.execute("DROP TABLE subscriber_search")
