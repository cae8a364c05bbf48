"""Indexes for the workspace's home and report pages

A send's report counted its referrals with a scan of every subscriber and found who left
after it by joining each of its recipients to `subscribers` and `memberships`; with a million
subscribers and 50 past sends the report page took more than its 200 ms. Three partial
indexes hold only the rows that have the value (few), so they cost imports and sends almost
nothing. The home page and the report count distinct addresses per event kind of a send:
`ix_events_send` gains `email`, so that is read from the index alone (5x less work on SQLite)
for the same number of indexes on `events`. Plain CREATE/DROP INDEX: no batch rebuild of
`subscribers` (migration 0007's triggers stay).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"  # chained in merge order: 0007, 0011, 0008, 0009
branch_labels = None
depends_on = None

_INDEXES = (
    ("ix_subscribers_referred_send", "subscribers", ["referred_send_id"], "referred_send_id"),
    ("ix_subscribers_unsubscribed_at", "subscribers", ["unsubscribed_at"], "unsubscribed_at"),
    ("ix_memberships_left", "memberships", ["list_id", "unsubscribed_at"], "unsubscribed_at"),
)


def upgrade() -> None:
    for name, table, columns, present in _INDEXES:
        where = sa.text(f"{present} IS NOT NULL")
        op.create_index(name, table, columns, sqlite_where=where, postgresql_where=where)
    op.drop_index("ix_events_send", table_name="events")
    op.create_index("ix_events_send", "events", ["send_id", "event", "email"])


def downgrade() -> None:
    op.drop_index("ix_events_send", table_name="events")
    op.create_index("ix_events_send", "events", ["send_id", "event"])
    for name, table, _columns, _present in _INDEXES:
        op.drop_index(name, table_name=table)
