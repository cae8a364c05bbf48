"""subscribers.referred_by_id: index only the people someone referred

The index held one entry per subscriber, nearly all of them NULL: every imported person was
one more insert into it (a million new people: ~1 s of PostgreSQL's CPU on 2 cores, of the
~10 s their rows cost). What reads it looks up the people one reader referred (the
preferences page's count, ON DELETE SET NULL of the self-reference): `referred_by_id = x`
implies `referred_by_id IS NOT NULL`, so a partial index serves both, as
ix_subscribers_referred_send does for sends.

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0010"
branch_labels = None
depends_on = None

_NAME = "ix_subscribers_referred_by_id"
_REFERRED = sa.text("referred_by_id IS NOT NULL")


def upgrade() -> None:
    op.drop_index(_NAME, table_name="subscribers")
    op.create_index(
        _NAME,
        "subscribers",
        ["referred_by_id"],
        sqlite_where=_REFERRED,
        postgresql_where=_REFERRED,
    )


def downgrade() -> None:
    op.drop_index(_NAME, table_name="subscribers")
    op.create_index(_NAME, "subscribers", ["referred_by_id"])
