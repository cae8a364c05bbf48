"""The subscriber search's text: a part of an address or name, case-insensitive, by trigram index.

A text matches a person when it occurs anywhere in their address or their name. Pages come in
id order (the cursor is the last id), so a text most people match (`example`) is answered by
walking the table in id order and stopping at the page's end, and a rare one (`r123456@`) by
an index of every three-character piece of both columns (migration 0013). Texts
under three characters have no trigram: they keep the walk (such texts match plenty).

- SQLite: the FTS5 table `subscriber_search` (trigram tokenizer) returns its matches in rowid
  order and stops with the LIMIT, so one statement serves both shapes: a phrase query is an
  exact substring match, case-folded.
- PostgreSQL: pg_trgm's GIN indexes return an unordered bitmap that costs as many rows as the
  text matches, so the page first walks a window of WINDOW ids after the cursor (the index
  kept out of that statement); only if that window does not fill the page does it ask the
  index, for the ids after the window. A text that did not fill a page in WINDOW rows matches
  few of them, so its bitmap is small (unless it clusters further on: then it costs what a
  scan would).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Integer, String, bindparam, column, or_, table, text
from sqlalchemy.orm import Session

from subscribers.models import Subscriber

TRIGRAM = 3
WINDOW = 10_000  # ids walked before asking PostgreSQL's index (~10 ms)

# The FTS5 table of migration 0013: not in the models' metadata (SQLite only).
SEARCH = table("subscriber_search", column("rowid", Integer), column("subscriber_search"))
_INDEX_NAMES = ("subscriber_search", "ix_subscribers_search_")


def uses_index(text: str) -> bool:
    return len(text) >= TRIGRAM


def phrase(text: str) -> str:
    """An FTS5 query: `text` as one phrase (a substring for the trigram tokenizer) in either
    column; double quotes are the only character a quoted FTS5 string escapes."""
    return '{email_norm name}: "' + text.replace('"', '""') + '"'


def matches(indexable: bool = True) -> ColumnElement[bool]:
    """`:pattern` (a LIKE pattern of the lower-cased text) in the address or the name; with
    `indexable` false, PostgreSQL cannot answer it from the trigram indexes (the window's walk
    must stay a walk)."""
    pattern = bindparam("pattern", type_=String)
    email, name = Subscriber.email_norm, Subscriber.name
    if not indexable:
        email, name = email.concat(""), name.concat("")  # type: ignore[assignment]
    return or_(email.like(pattern, escape="\\"), name.ilike(pattern, escape="\\"))


def is_search_index(name: str | None) -> bool:
    """The search's own tables and indexes (FTS5's shadow tables included): made by migration
    0013, not declared in the models, so schema comparisons leave them out."""
    return bool(name) and str(name).startswith(_INDEX_NAMES)


def forget_deleted(session: Session) -> None:
    """SQLite: rewrite the FTS5 index without the pieces of deleted or changed texts.

    FTS5 (3.40, no secure-delete) records a delete as a marker in a new segment; the old
    segment keeps the erased address's trigrams and their positions (enough to spell it
    out again) until a merge. An erasure must not leave that behind: 'optimize' merges every
    segment into one (~2 s of CPU for a million people; erasure is rare). PostgreSQL's
    trigram indexes have nothing to spell the text with: they point at the row, which the
    erasure rewrote."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(
            text("INSERT INTO subscriber_search (subscriber_search) VALUES ('optimize')")
        )
