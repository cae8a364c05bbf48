"""send_recipients: cascades by trigger instead of per-row foreign-key checks

Freezing a million recipients on PostgreSQL spent 21 of its 32 s in the two foreign-key checks
of every inserted row (EXPLAIN ANALYZE; SQLite pays them too). The freeze selects the people
from `subscribers` in the same statement that inserts them, inside the transaction that moved
the send to `sending`, so neither reference can dangle; what the keys also gave was the
cascade when a send or a subscriber is deleted. Two AFTER DELETE triggers keep exactly that
cascade, at the cost of the (rare) delete instead of every freeze.

Revision ID: 0007
Revises: 0003
Create Date: 2026-12-02
"""

from alembic import op

revision = "0007"
down_revision = "0003"  # last: earlier batch rebuilds of sends/subscribers would drop its triggers
branch_labels = None
depends_on = None

_SQLITE_NAMES = {"fk": "fk_%(table_name)s_%(column_0_name)s"}
_KEYS = (("send_id", "sends"), ("subscriber_id", "subscribers"))


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for column, _table in _KEYS:
            op.drop_constraint(_fk_name(column), "send_recipients", "foreignkey")
        op.execute(_PG_FUNCTION)
        for column, table in _KEYS:
            op.execute(
                f"CREATE TRIGGER {table}_delete_recipients AFTER DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION delete_send_recipients('{column}')"
            )
        return
    with op.batch_alter_table("send_recipients", naming_convention=_SQLITE_NAMES) as batch_op:
        for column, _table in _KEYS:
            batch_op.drop_constraint(_fk_name(column), type_="foreignkey")
    for column, table in _KEYS:
        op.execute(
            f"CREATE TRIGGER {table}_delete_recipients AFTER DELETE ON {table} FOR EACH ROW "
            f"BEGIN DELETE FROM send_recipients WHERE {column} = OLD.id; END"
        )


# One function for both triggers: the column named by the trigger's argument.
_PG_FUNCTION = """
CREATE FUNCTION delete_send_recipients() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('DELETE FROM send_recipients WHERE %I = $1', TG_ARGV[0]) USING OLD.id;
  RETURN NULL;
END $$
"""


def downgrade() -> None:
    for _column, table in _KEYS:
        op.execute(f"DROP TRIGGER {table}_delete_recipients" + _on(table))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION delete_send_recipients()")
    with op.batch_alter_table("send_recipients") as batch_op:
        for column, table in _KEYS:
            batch_op.create_foreign_key(
                _fk_name(column), table, [column], ["id"], ondelete="CASCADE"
            )


def _on(table: str) -> str:
    return f" ON {table}" if op.get_bind().dialect.name == "postgresql" else ""


def _fk_name(column: str) -> str:
    """PostgreSQL's own name for the key; on SQLite the one `_SQLITE_NAMES` gives it."""
    if op.get_bind().dialect.name == "postgresql":
        return f"send_recipients_{column}_fkey"
    return f"fk_send_recipients_{column}"
