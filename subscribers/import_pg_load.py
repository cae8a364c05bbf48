"""Loading a PostgreSQL import chunk by chunk on a thread of its own, while the next is parsed.

Parsing and checking a row costs Python time in the importer; merging it costs the server's.
Done one after the other, a million rows on 2 cores took their sum. Here the importer hands
each full chunk of checked rows to one loader thread, which COPYs it into the staging table
and merges it (`import_pg.merge`) while the importer parses the next chunk: the client mostly
waits on the socket meanwhile (psycopg lets go of the GIL there), so the two cores work at
once. At most one chunk is in flight and one is being filled, which bounds memory.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from json.encoder import encode_basestring
from typing import Any

from sqlalchemy import Connection

from subscribers import import_pg
from subscribers.import_pg import Merged
from subscribers.import_rows import Row

CHUNK_ROWS = 50_000
_Staged = tuple[Any, ...]  # one COPY row of import_stage


class Loader:
    """Stages and merges the checked rows of one import, inside the caller's transaction."""

    def __init__(self, conn: Connection, list_id: int | None, chunk_rows: int = CHUNK_ROWS) -> None:
        for statement in (*import_pg.SETTINGS, import_pg.STAGE):
            conn.exec_driver_sql(statement)
        self._conn, self._list_id, self._chunk_rows = conn, list_id, chunk_rows
        self._pending: list[_Staged] = []
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="import-merge")
        self._running: Future[Merged] | None = None
        self.merged = Merged()

    def write(self, rows: list[Row]) -> None:
        pending = self._pending
        for row in rows:
            pending.append(
                (
                    len(pending),  # the order new people get their ids in, within the chunk
                    row.email,
                    row.email_norm,
                    row.name,
                    ";".join(row.tags) if row.tags else None,
                    row.timezone,
                    row.status.value if row.status else None,
                    _json(row.attrs) if row.attrs else "{}",
                )
            )
            if len(pending) >= self._chunk_rows:
                self._hand_over()
                pending = self._pending

    def finish(self) -> Merged:
        """Load what is left, wait for it, and say what the whole import did."""
        try:
            if self._pending:
                self._hand_over()
            self._collect()
        finally:
            self._pool.shutdown()
        return self.merged

    def abort(self) -> None:
        """Wait for the chunk in flight (its error, if any, is the caller's error's echo)."""
        running, self._running = self._running, None
        if running is not None:
            running.exception()
        self._pool.shutdown()

    def _hand_over(self) -> None:
        self._collect()  # one chunk in flight at most
        chunk, self._pending = self._pending, []
        self._running = self._pool.submit(self._load, chunk)

    def _collect(self) -> None:
        running, self._running = self._running, None
        if running is not None:
            self.merged += running.result()  # re-raises the loader's error here

    def _load(self, chunk: list[_Staged]) -> Merged:
        """On the loader thread: COPY the chunk into the staging table, then merge it."""
        driver = self._conn.connection.driver_connection
        with driver.cursor() as cursor, cursor.copy(import_pg.COPY) as copy:  # type: ignore[union-attr]
            write_row = copy.write_row
            for staged in chunk:
                write_row(staged)
        return import_pg.merge(self._conn, self._list_id)


def _json(attrs: dict[str, Any]) -> str:
    """`json.dumps(attrs)` for what the importer puts there (text, int and finite float values),
    without building an encoder per call: that was a tenth of the client's time per row."""
    return (
        "{"
        + ", ".join(
            f"{encode_basestring(key)}: "
            + (encode_basestring(value) if isinstance(value, str) else repr(value))
            for key, value in attrs.items()
        )
        + "}"
    )
