"""lists: a title for people and a public flag

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("lists", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("title", sa.String(length=200), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("public", sa.Boolean(), nullable=False, server_default=sa.true())
        )


def downgrade() -> None:
    with op.batch_alter_table("lists", schema=None) as batch_op:
        batch_op.drop_column("public")
        batch_op.drop_column("title")
