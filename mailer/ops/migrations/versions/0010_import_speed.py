"""memberships, subscriber_tags: cascades by trigger instead of per-row foreign-key checks

Importing a million people on PostgreSQL spent most of its inserts into `subscriber_tags` and
`memberships` in their foreign-key checks (200k rows, loaded machine: 7.3 s -> 2.5 s for the
tags, 7.7 s -> 2.0 s for the memberships without them): every row locks its subscriber (and
its list) with a KEY SHARE lock, which writes to the subscriber's page and to the WAL. Every
writer of these tables names a subscriber it has just found or created in the same
transaction, so what the keys gave beyond that was the cascade when a subscriber or a list is
deleted. AFTER DELETE triggers keep exactly that cascade, as migration 0007 did for
send_recipients; docs/scaling.md says why.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from alembic import op

revision = "0010"
down_revision = (
    "0009"  # last, after any SQLite batch rebuild of subscribers or lists (it drops triggers)
)
branch_labels = None
depends_on = None

_SQLITE_NAMES = {"fk": "fk_%(table_name)s_%(column_0_name)s"}
# (child table, its column, parent table)
_KEYS = (
    ("memberships", "subscriber_id", "subscribers"),
    ("memberships", "list_id", "lists"),
    ("subscriber_tags", "subscriber_id", "subscribers"),
)
_CHILDREN = ("memberships", "subscriber_tags")


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        for child, column, _parent in _KEYS:
            op.drop_constraint(f"{child}_{column}_fkey", child, "foreignkey")
        op.execute(_PG_FUNCTION)
    else:
        for child in _CHILDREN:
            with op.batch_alter_table(child, naming_convention=_SQLITE_NAMES) as batch_op:
                for column in (c for t, c, _p in _KEYS if t == child):
                    batch_op.drop_constraint(f"fk_{child}_{column}", type_="foreignkey")
    for child, column, parent in _KEYS:
        name = _trigger(child, parent)
        if postgresql:
            op.execute(
                f"CREATE TRIGGER {name} AFTER DELETE ON {parent} FOR EACH ROW "
                f"EXECUTE FUNCTION delete_children('{child}', '{column}')"
            )
        else:
            op.execute(
                f"CREATE TRIGGER {name} AFTER DELETE ON {parent} FOR EACH ROW "
                f"BEGIN DELETE FROM {child} WHERE {column} = OLD.id; END"
            )


# One function for the three triggers: the table and column named by the trigger's arguments.
_PG_FUNCTION = """
CREATE FUNCTION delete_children() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('DELETE FROM %I WHERE %I = $1', TG_ARGV[0], TG_ARGV[1]) USING OLD.id;
  RETURN NULL;
END $$
"""


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for child, _column, parent in _KEYS:
        op.execute(
            f"DROP TRIGGER {_trigger(child, parent)}" + (f" ON {parent}" if postgresql else "")
        )
    if postgresql:
        op.execute("DROP FUNCTION delete_children()")
    for child in _CHILDREN:
        with op.batch_alter_table(child) as batch_op:
            for column, parent in ((c, p) for t, c, p in _KEYS if t == child):
                name = f"{child}_{column}_fkey" if postgresql else f"fk_{child}_{column}"
                batch_op.create_foreign_key(name, parent, [column], ["id"], ondelete="CASCADE")


def _trigger(child: str, parent: str) -> str:
    return f"{parent}_delete_{child}"
