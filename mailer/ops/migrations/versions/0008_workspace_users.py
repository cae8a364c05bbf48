"""workspace: drafts that do not parse yet; each user's remembered test addresses

`issues.parse_error` holds why the stored Markdown does not parse (NULL when it does): the
editor's text is kept even then, and such a draft cannot be test-sent or scheduled.
`users.test_to` holds the addresses the user last sent test copies to, so every browser they
sign in on offers them again. Plain added columns (no table rebuild on SQLite).

Revision ID: 0008
Revises: 0011
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0011"  # chained in merge order: 0007, 0011, 0008
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("issues", sa.Column("parse_error", sa.Text(), nullable=True))
    op.add_column("users", sa.Column("test_to", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("test_to")
    with op.batch_alter_table("issues") as batch_op:
        batch_op.drop_column("parse_error")
