"""Whole-batch SQL for PostgreSQL: a few array parameters instead of thousands of placeholders.

psycopg rewrites every placeholder of a query in Python before sending it (and caches only
short queries), so a 1,000-row multi-VALUES INSERT or a 1,000-item IN list costs tens of
milliseconds of CPU per statement. `= ANY(:array)` carries an IN list as one parameter and an
INSERT takes the whole batch as one JSON document. SQLite has no such cost: it keeps the plain
forms.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, any_, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

# The record type of the batch; `json_to_recordset` keeps the array's order (our lock order).
_EVENT_COLUMNS = (
    "sg_event_id text, event text, email text, subscriber_id integer, send_id integer, "
    "occurred_at timestamptz, bounce_type text, reason text, url text, sg_message_id text, "
    "data jsonb, batch_seq integer"
)
_NAMES = ", ".join(column.split()[0] for column in _EVENT_COLUMNS.split(", "))
_INSERT_EVENTS = text(
    f"INSERT INTO events (post_id, {_NAMES}) "
    f"SELECT :post_id, {_NAMES} FROM json_to_recordset(CAST(:rows AS json)) AS e({_EVENT_COLUMNS}) "
    "ON CONFLICT (sg_event_id) DO NOTHING RETURNING id"
)


def is_postgres(bind: Session | Connection) -> bool:
    dialect = bind.get_bind().dialect if isinstance(bind, Session) else bind.dialect
    return dialect.name == "postgresql"


def insert_events_pg(conn: Connection, post_id: int, rows: Sequence[dict[str, Any]]) -> int:
    """INSERT ... ON CONFLICT (sg_event_id) DO NOTHING of `event_row` dicts; how many were new.

    The rows travel as ONE JSON document: json.dumps is C, psycopg's array quoting is not."""
    document = json.dumps([{**row, "occurred_at": row["occurred_at"].isoformat()} for row in rows])
    return len(conn.execute(_INSERT_EVENTS, {"post_id": post_id, "rows": document}).all())


def among(column: Any, values: Sequence[Any], postgres: bool) -> ColumnElement[bool]:
    """`column IN values`, as `column = ANY(:array)` on PostgreSQL."""
    if not postgres:
        return column.in_(values)
    return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
