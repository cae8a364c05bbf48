"""The PostgreSQL side of an import: COPY checked rows into a staging table, merge them in SQL.

The SQLite path (`import_db`) loads each batch's people into Python and writes back what
changed; on PostgreSQL that costs a round trip and a per-row parameter conversion in psycopg
for every few thousand rows (64 s for 200,000 rows). Here the rows the importer has parsed,
checked and merged (one per email) stream into a temporary table through COPY, a chunk at a
time (`import_pg_load`), and a handful of set-based statements apply the same rules to all of
a chunk's rows at once: empty cells leave stored values alone, attributes add up, tags are
only ever added, a status only moves toward a stronger suppression (or pending -> active),
list membership is added but a left list stays left. No email is in two chunks (the importer
merges repeated emails before writing them), so chunk by chunk is the same as all at once.
The whole import is one transaction: it lands entirely or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, text

from subscribers.models import utcnow

STAGE = (
    "CREATE TEMP TABLE import_stage (seq integer, email text, email_norm text, name text, "
    "tags text, timezone text, status text, attrs jsonb) ON COMMIT DROP"
)
COPY = "COPY import_stage (seq, email, email_norm, name, tags, timezone, status, attrs) FROM STDIN"
# rank of a status: only a move to a higher rank (or pending -> active) is allowed
_RANK = (
    "CASE {0} WHEN 'unsubscribed' THEN 1 WHEN 'bounced' THEN 2 WHEN 'complained' THEN 3 ELSE 0 END"
)
_ALLOWED = (
    f"(s.status <> sub.status AND ({_RANK.format('s.status')} > {_RANK.format('sub.status')}"
    " OR (sub.status = 'pending' AND s.status = 'active')))"
)
_TAGS = "COALESCE(string_to_array(s.tags, ';'), '{}')"
# One row per staged person: what it will be, and what of it changes. New people get their
# ids in file order (ORDER BY seq); the plan is written in that order, so the statements
# below read it in id order without sorting it again.
_PLAN = f"""
CREATE TEMP TABLE import_plan ON COMMIT DROP AS
SELECT s.seq, s.email, s.email_norm, sub.id IS NULL AS is_new,
  COALESCE(sub.id, nextval(CAST(:id_sequence AS regclass))) AS id,
  COALESCE(s.name, sub.name, '') AS name,
  COALESCE(s.timezone, sub.timezone) AS timezone,
  CASE WHEN sub.id IS NULL THEN s.attrs ELSE sub.attrs || s.attrs END AS attrs,
  CASE WHEN sub.id IS NULL THEN COALESCE(s.status, 'active')
       WHEN s.status IS NOT NULL AND {_ALLOWED} THEN s.status ELSE sub.status END AS status,
  COALESCE(sub.id IS NOT NULL AND s.status IS NOT NULL AND {_ALLOWED}, false) AS status_changed,
  COALESCE(sub.id IS NOT NULL AND s.status IS NOT NULL AND s.status <> sub.status
    AND NOT {_ALLOWED}, false) AS refused,
  COALESCE(sub.id IS NOT NULL AND (
    (s.name IS NOT NULL AND s.name <> sub.name)
    OR (s.timezone IS NOT NULL AND s.timezone IS DISTINCT FROM sub.timezone)
    OR sub.attrs || s.attrs <> sub.attrs), false) AS columns_changed,
  CASE WHEN sub.id IS NULL THEN {_TAGS}
       ELSE ARRAY(SELECT t FROM unnest({_TAGS}) AS t WHERE NOT EXISTS (
         SELECT 1 FROM subscriber_tags st WHERE st.subscriber_id = sub.id AND st.tag = t))
  END AS new_tags,
  CAST(:list_id AS integer) IS NOT NULL AND m.subscriber_id IS NULL AS joins
FROM import_stage s LEFT JOIN subscribers sub ON sub.email_norm = s.email_norm
  -- a join, not NOT EXISTS: the planner hashed that subquery, reading every member of the
  -- list once per chunk (a re-import of 1M rows: 20 chunks x 1M memberships)
  LEFT JOIN memberships m ON m.list_id = :list_id AND m.subscriber_id = sub.id
ORDER BY s.seq
"""
# staged, added, updated, refused, and how many rows each write statement has to touch
_COUNTS = """
SELECT count(*), count(*) FILTER (WHERE is_new),
  count(*) FILTER (WHERE NOT is_new AND (columns_changed OR status_changed
    OR cardinality(new_tags) > 0 OR joins)),
  count(*) FILTER (WHERE refused),
  count(*) FILTER (WHERE NOT is_new AND (columns_changed OR status_changed)),
  count(*) FILTER (WHERE cardinality(new_tags) > 0), count(*) FILTER (WHERE joins)
FROM import_plan
"""
_INSERT = """
INSERT INTO subscribers (id, email, email_norm, name, status, timezone, attrs, unsubscribed_at,
  consent_source, consent_at, created_at, updated_at, bounce_count, soft_bounce_count, link_key)
SELECT id, email, email_norm, name, status, timezone, attrs,
  CASE WHEN status = 'unsubscribed' THEN CAST(:now AS timestamptz) END,
  'import', :now, :now, :now, 0, 0,
  -- binds the reader's links to this row (models.new_link_key); the token itself is signed
  1 + floor(random() * 2147483646)::int
FROM import_plan WHERE is_new
"""
_UPDATE = """
UPDATE subscribers sub SET name = p.name, timezone = p.timezone, attrs = p.attrs,
  status = p.status, updated_at = :now,
  status_reason = CASE WHEN p.status_changed THEN 'import' ELSE sub.status_reason END,
  unsubscribed_at = CASE WHEN NOT p.status_changed THEN sub.unsubscribed_at
    WHEN p.status = 'unsubscribed' THEN CAST(:now AS timestamptz) END
FROM import_plan p
WHERE p.id = sub.id AND NOT p.is_new AND (p.columns_changed OR p.status_changed)
"""
_ADD_TAGS = """
INSERT INTO subscriber_tags (subscriber_id, tag)
SELECT p.id, t FROM import_plan p CROSS JOIN unnest(p.new_tags) AS t
WHERE cardinality(p.new_tags) > 0
"""
_JOIN = """
INSERT INTO memberships (list_id, subscriber_id, status, created_at)
SELECT :list_id, p.id,
  CASE WHEN p.status IN ('unsubscribed', 'bounced', 'complained') THEN 'unsubscribed'
       ELSE 'subscribed' END, :now
FROM import_plan p WHERE p.joins
"""


@dataclass(frozen=True)
class Merged:
    """What the merge did to the staged people (one per distinct email)."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    status_kept: int = 0

    def __add__(self, other: Merged) -> Merged:
        return Merged(
            self.added + other.added,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
            self.status_kept + other.status_kept,
        )


# The merge's statements are a few big scans, sorts and inserts: JIT compiling them cost
# ~3 s each on a loaded 2-core machine and saved nothing, and 4 MB of work_mem sent every
# sort of a large import to disk. A chunk (50,000 rows) is small beside the tables it is
# merged into, so each of its rows is looked up through an index: a hash or merge join
# would read the whole of `subscribers` once per chunk (the planner picked one, and a
# re-import of 200k rows spent half its merge there). With those joins off the staged chunk
# needs no statistics either: an ANALYZE of it per chunk was a tenth of the server's CPU and
# changed no plan. All only for this transaction.
SETTINGS = (
    "SET LOCAL jit = off",
    "SET LOCAL work_mem = '64MB'",
    "SET LOCAL enable_hashjoin = off",
    "SET LOCAL enable_mergejoin = off",
)


def merge(conn: Connection, list_id: int | None, now: datetime | None = None) -> Merged:
    """Apply the staged rows to the subscribers, their tags and the list, set-based."""
    params: dict[str, Any] = {"list_id": list_id, "now": now or utcnow()}
    params["id_sequence"] = conn.execute(
        text("SELECT pg_get_serial_sequence('subscribers', 'id')")
    ).scalar_one()
    conn.execute(text(_PLAN), params)
    staged, added, updated, refused, changed, tags, joins = conn.execute(text(_COUNTS)).one()
    if added:
        conn.execute(text(_INSERT), params)
    if changed:
        conn.execute(text(_UPDATE), params)
    if tags:
        conn.execute(text(_ADD_TAGS))
    if joins:
        conn.execute(text(_JOIN), params)
    conn.exec_driver_sql("DROP TABLE import_plan")
    conn.exec_driver_sql("TRUNCATE import_stage")
    return Merged(added, updated, staged - added - updated, refused)


def begin(engine: Engine) -> Any:
    """The one transaction of a PostgreSQL import (a context manager yielding a Connection)."""
    return engine.begin()
