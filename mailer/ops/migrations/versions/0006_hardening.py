"""hardening: link keys, one copy per friend, address suppressions, message outbox, archive flag

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-02
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0004"  # chained in merge order: 0002, 0005, 0004, 0006, 0003, 0007
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("subscribers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("link_key", sa.Integer(), nullable=True))
    _fill_link_keys()
    with op.batch_alter_table("subscribers", schema=None) as batch_op:
        batch_op.alter_column("link_key", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("sends", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("archive_public", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "forward_recipients",
        sa.Column("send_id", sa.Integer(), nullable=False),
        sa.Column("friend_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["send_id"], ["sends.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("send_id", "friend_hash"),
    )
    op.create_table(
        "address_suppressions",
        sa.Column("address_hash", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("address_hash"),
    )
    _create_outbox()


def _create_outbox() -> None:
    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("send_id", sa.Integer(), nullable=True),
        sa.Column("args", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_outbox_messages_unsent", "outbox_messages", ["sent_at", "created_at"])
    op.create_index("ix_outbox_messages_send", "outbox_messages", ["send_id", "kind"])


def _fill_link_keys() -> None:
    # Each existing reader gets a random key of their own (existing links stop working: they
    # were bound to an id that SQLite may hand to someone else).
    conn = op.get_bind()
    ids = conn.execute(sa.text("SELECT id FROM subscribers")).scalars().all()
    for subscriber_id in ids:
        conn.execute(
            sa.text("UPDATE subscribers SET link_key = :key WHERE id = :id"),
            {"key": secrets.randbelow(2**31 - 2) + 1, "id": subscriber_id},
        )


def downgrade() -> None:
    op.drop_index("ix_outbox_messages_send", table_name="outbox_messages")
    op.drop_index("ix_outbox_messages_unsent", table_name="outbox_messages")
    op.drop_table("outbox_messages")
    op.drop_table("address_suppressions")
    op.drop_table("forward_recipients")
    with op.batch_alter_table("sends", schema=None) as batch_op:
        batch_op.drop_column("archive_public")
    with op.batch_alter_table("subscribers", schema=None) as batch_op:
        batch_op.drop_column("link_key")
