"""CSV export with the import's columns (email, name, tags, timezone, status, then attributes).

With `--list`, everyone still subscribed to that list, whatever their status (so re-importing the
file keeps unsubscribed people unsubscribed); with `--segment`, only the active subscribers it
matches, as a send would choose them. Pages are read by id, so memory stays flat.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Sequence
from typing import Any, TextIO

from sqlalchemy import ColumnElement, Engine, Row, select
from sqlalchemy.orm import Session

from subscribers.formulas import neutralise
from subscribers.lists import require_list
from subscribers.models import Membership, MembershipStatus, Status, Subscriber, SubscriberTag
from subscribers.segments import compile_segment
from subscribers.store import CORE_COLUMNS

PAGE = 5000


def export_csv(
    engine: Engine, out: TextIO, list_name: str | None = None, segment: str | None = None
) -> int:
    """Write the chosen subscribers as CSV to `out`; return how many were written."""
    conditions = _conditions(engine, list_name, segment)
    keys = sorted({key for row in _pages(engine, conditions) for key in row.attrs})
    writer = csv.writer(out)
    writer.writerow([neutralise(name) for name in (*CORE_COLUMNS, *keys)])
    count = 0
    for page in _chunks(_pages(engine, conditions)):
        tags = _tags(engine, [row.id for row in page])
        for row in page:
            core = [row.email, row.name, ";".join(sorted(tags.get(row.id, []))), row.timezone]
            cells = [*core, row.status, *(_cell(row.attrs.get(k)) for k in keys)]
            writer.writerow([neutralise(cell or "") for cell in cells])
            count += 1
    return count


def _conditions(
    engine: Engine, list_name: str | None, segment: str | None
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if segment:
        conditions += [Subscriber.status == Status.ACTIVE, compile_segment(segment)]
    if list_name:
        with Session(engine) as session:
            found = require_list(session, list_name)
        members = select(Membership.subscriber_id).where(
            Membership.list_id == found.id, Membership.status == MembershipStatus.SUBSCRIBED
        )
        conditions.append(Subscriber.id.in_(members))
    return conditions


def _pages(engine: Engine, conditions: list[ColumnElement[bool]]) -> Iterator[Row[Any]]:
    columns = (Subscriber.id, Subscriber.email, Subscriber.name, Subscriber.timezone)
    query = select(*columns, Subscriber.status, Subscriber.attrs).where(*conditions)
    last = 0
    while True:
        with engine.connect() as conn:
            page = list(
                conn.execute(query.where(Subscriber.id > last).order_by(Subscriber.id).limit(PAGE))
            )
        yield from page
        if len(page) < PAGE:
            return
        last = page[-1].id


def _chunks(rows: Iterator[Row[Any]]) -> Iterator[list[Row[Any]]]:
    page: list[Row[Any]] = []
    for row in rows:
        page.append(row)
        if len(page) == PAGE:
            yield page
            page = []
    if page:
        yield page


def _tags(engine: Engine, ids: Sequence[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    query = select(SubscriberTag.subscriber_id, SubscriberTag.tag)
    with engine.connect() as conn:
        for subscriber_id, tag in conn.execute(query.where(SubscriberTag.subscriber_id.in_(ids))):
            found.setdefault(subscriber_id, []).append(tag)
    return found


def _cell(value: object) -> str:
    """Text the importer reads back as the same value (numbers as numbers, text as text)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        return json.dumps(value, ensure_ascii=False)
    return repr(value)
