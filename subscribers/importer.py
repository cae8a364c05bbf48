"""Streaming CSV import: checked rows written in batches (SQLite: each batch one transaction of
bulk SQL; PostgreSQL: one transaction, COPY and a set-based merge per chunk, `import_pg_load`).

Rows naming the same email are merged before anything is written (later non-empty cells win,
tags and attributes add up), so importing the same file twice changes nothing the second time.
A first quick pass over the file finds the emails that occur more than once; their rows are held
back, merged, and written after the others, so memory stays small: one hash per row during the
first pass, then only the current batch and the duplicated people. Empty cells leave stored
values alone; an import never removes a tag. Values that read as plain numbers (no leading zero
or '+', at most 2**53) are stored as JSON numbers so `attr.score >= 3` compares numerically.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from functools import partial
from itertools import islice
from pathlib import Path

from sqlalchemy import Engine

from subscribers import import_db
from subscribers.csvio import (
    Header,
    Records,
    RejectedFile,
    check_utf8,
    open_text,
    read_header,
    rejected_path,
)
from subscribers.errors import SubscriberError
from subscribers.gc_scope import fewer_collections
from subscribers.import_pg_load import CHUNK_ROWS, Loader
from subscribers.import_rows import UPDATED, Row, apply_row, merge_rows, new_person, parse_record

BATCH_ROWS = 5000
Progress = Callable[[int, int], None]  # (bytes read, file size)
Written = list[tuple[Row, int]]  # checked rows, each with how many file rows it stands for


@dataclass
class ImportResult:
    """The counts: rows == added + updated + unchanged + rejected."""

    rows: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    rejected_file: str | None = None
    duplicates: int = 0  # rows merged into an earlier row for the same email (counted unchanged)
    status_kept: int = 0  # rows whose status would have re-activated or demoted someone

    def as_dict(self) -> dict[str, int | str | None]:
        return asdict(self)


@dataclass
class _Run:
    engine: Engine
    list_id: int | None
    header: Header
    rejected: RejectedFile
    repeated: set[int]  # hashes of emails seen more than once
    chunk_rows: int
    result: ImportResult = field(default_factory=ImportResult)
    # merged rows of repeated emails, with how many file rows each stands for
    held: dict[str, tuple[Row, int]] = field(default_factory=dict)


def import_csv(
    engine: Engine,
    path: Path,
    list_name: str | None = None,
    progress: Progress | None = None,
    batch_rows: int = BATCH_ROWS,
    create_list: bool = False,
    chunk_rows: int = CHUNK_ROWS,
) -> ImportResult:
    """Import a subscriber CSV; every data row ends up added, updated, unchanged or rejected.

    An unknown `list_name` is refused before any row is read, unless `create_list`.
    `chunk_rows`: how many rows PostgreSQL merges at a time while the next are parsed."""
    if not path.is_file():
        raise SubscriberError(f"{path}: no such file")
    check_utf8(path)
    with fewer_collections():
        return _import(engine, path, list_name, progress, batch_rows, create_list, chunk_rows)


def _import(
    engine: Engine,
    path: Path,
    list_name: str | None,
    progress: Progress | None,
    batch_rows: int,
    create_list: bool,
    chunk_rows: int,
) -> ImportResult:
    repeated = _repeated_emails(path)
    size = path.stat().st_size
    binary, text = open_text(path)
    with binary, text:
        header, records = read_header(path, text)
        list_id = import_db.list_id(engine, list_name, create_list) if list_name else None
        rejected = RejectedFile(rejected_path(path), header)
        run = _Run(engine, list_id, header, rejected, repeated, chunk_rows)
        try:
            with _sink(run) as write:
                for batch in _batches(records, batch_rows):
                    write(_check_rows(run, batch))
                    if progress:
                        progress(binary.tell(), size)
                _write_held(run, batch_rows, write)
        finally:
            rejected.close()
    return _finish(run)


def _finish(run: _Run) -> ImportResult:
    if run.result.added or run.result.updated:
        import_db.refresh_statistics(run.engine)
    run.result.rejected = run.rejected.count
    run.result.rejected_file = str(run.rejected.path) if run.rejected.count else None
    return run.result


def _repeated_emails(path: Path) -> set[int]:
    """Hashes of the emails that occur on more than one record (a collision only holds back)."""
    seen: set[int] = set()
    repeated: set[int] = set()
    binary, text = open_text(path)
    with binary, text:
        header, records = read_header(path, text)
        column = header.names.index("email")
        for _line, fields in records:
            if column < len(fields):
                key = hash(fields[column].strip().lower())
                if key in seen:
                    repeated.add(key)
                else:
                    seen.add(key)
    return repeated


def _batches(records: Records, size: int) -> Iterator[list[tuple[int, list[str]]]]:
    while batch := list(islice(records, size)):
        yield batch


def _check_rows(run: _Run, batch: list[tuple[int, list[str]]]) -> Written:
    """Valid rows to write now, each with how many file rows it stands for."""
    rows: Written = []
    for line, fields in batch:
        run.result.rows += 1
        try:
            row = parse_record(line, run.header.names, fields)
        except SubscriberError as exc:
            run.rejected.add(line, str(exc), fields)
            continue
        email = row.email_norm
        if hash(email) not in run.repeated:
            rows.append((row, 1))
        elif email in run.held:
            earlier, count = run.held[email]
            run.held[email] = (merge_rows(earlier, row), count + 1)
        else:
            run.held[email] = (row, 1)
    return rows


def _write_held(run: _Run, batch_rows: int, write: Callable[[Written], None]) -> None:
    held = iter(run.held.values())
    while batch := list(islice(held, batch_rows)):
        write(batch)


@contextmanager
def _sink(run: _Run) -> Iterator[Callable[[Written], None]]:
    """Where checked rows go: per-batch transactions on SQLite; on PostgreSQL one transaction
    that a loader thread COPYs and merges into, chunk by chunk, while the next is parsed."""
    if run.engine.dialect.name != "postgresql":
        yield partial(_write, run)
        return
    with run.engine.begin() as conn:
        loader = Loader(conn, run.list_id, run.chunk_rows)
        try:
            yield partial(_stage, run, loader)
        except BaseException:
            loader.abort()
            raise
        merged = loader.finish()
    run.result.added += merged.added
    run.result.updated += merged.updated
    run.result.unchanged += merged.unchanged
    run.result.status_kept += merged.status_kept


def _stage(run: _Run, loader: Loader, rows: Written) -> None:
    for _row, count in rows:
        run.result.unchanged += count - 1
        run.result.duplicates += count - 1
    loader.write([row for row, _ in rows])


def _write(run: _Run, rows: Written) -> None:
    """One transaction: load the people these rows name, apply the rows, write the changes."""
    result = run.result
    with run.engine.begin() as conn:
        people = import_db.load_people(conn, {row.email_norm for row, _ in rows}, run.list_id)
        on_list = run.list_id is not None
        for row, count in rows:
            result.unchanged += count - 1
            result.duplicates += count - 1
            person = people.get(row.email_norm)
            if person is None:
                people[row.email_norm] = new_person(row, on_list)
                result.added += 1
                continue
            outcome, refused = apply_row(person, row, on_list)
            result.status_kept += refused
            if outcome == UPDATED:
                result.updated += 1
            else:
                result.unchanged += 1
        import_db.save_people(conn, list(people.values()), run.list_id)
