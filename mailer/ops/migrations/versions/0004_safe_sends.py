"""sends: a content hash (the same issue twice to one list is refused) and several test addresses

Revision ID: 0004
Revises: 0005
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0005"  # re-chained after main (0005_liveness) was merged in
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sends", schema=None) as batch_op:
        batch_op.add_column(sa.Column("content_hash", sa.String(length=64), nullable=True))
        batch_op.alter_column(
            "test_to", existing_type=sa.String(length=320), type_=sa.Text(), existing_nullable=True
        )
        batch_op.create_index("ix_sends_list_content", ["list_id", "content_hash"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sends", schema=None) as batch_op:
        batch_op.drop_index("ix_sends_list_content")
        batch_op.alter_column(
            "test_to", existing_type=sa.Text(), type_=sa.String(length=320), existing_nullable=True
        )
        batch_op.drop_column("content_hash")
