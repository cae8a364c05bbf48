"""Export: the import's columns, filtered by list and segment, and a faithful round trip."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from sqlalchemy import Engine

from subscribers.db import transaction
from subscribers.errors import SubscriberError
from subscribers.exporter import export_csv
from subscribers.importer import import_csv
from subscribers.status import unsubscribe_everywhere, unsubscribe_from_list
from subscribers.store import add_subscriber, find_list

MESSY = (
    "\ufeffE-mail;Name;Tags;Timezone;Status;Score;Zip;Note\n"
    'ann@example.com;"Ann ""A""";Investors;Europe/Paris;;5;01234;"two\nlines"\n'
    "bob@example.com;Bob;press;;;2.5;;\n"
    "cat@example.com;Cat;;;unsubscribed;;;\n"
    "dan@example.com;Dan;investors;;pending;;;\n"
)


def export(engine: Engine, **kwargs: str) -> list[dict[str, str]]:
    out = io.StringIO()
    export_csv(engine, out, **kwargs)
    return list(csv.DictReader(io.StringIO(out.getvalue())))


def test_export_has_the_import_columns_and_round_trips(engine: Engine, workdir: Path) -> None:
    source = workdir / "messy.csv"
    source.write_text(MESSY, encoding="utf-8")
    import_csv(engine, source, list_name="weekly", create_list=True)
    target = workdir / "export.csv"
    with target.open("w", encoding="utf-8", newline="") as stream:
        assert export_csv(engine, stream) == 4
    header = target.read_text(encoding="utf-8").splitlines()[0]
    assert header == "email,name,tags,timezone,status,note,score,zip"
    rows = export(engine)
    assert rows[0] == {
        "email": "ann@example.com",
        "name": 'Ann "A"',
        "tags": "investors",
        "timezone": "Europe/Paris",
        "status": "active",
        "note": "two\nlines",
        "score": "5",
        "zip": "01234",
    }
    assert [r["status"] for r in rows] == ["active", "active", "unsubscribed", "pending"]
    again = import_csv(engine, target, list_name="weekly")
    assert (again.rows, again.unchanged) == (4, 4)
    assert export(engine) == rows


def test_export_by_list_and_by_segment(engine: Engine) -> None:
    with transaction(engine) as session:
        ann = add_subscriber(session, "ann@example.com", list_names=["weekly"], tags=["vip"])
        bob = add_subscriber(session, "bob@example.com", list_names=["weekly"], tags=["vip"])
        add_subscriber(session, "cat@example.com", list_names=["weekly"], attrs={"n": 1})
        add_subscriber(session, "dan@example.com", list_names=["daily"], tags=["vip"])
        weekly = find_list(session, "weekly")
        assert weekly is not None
        unsubscribe_from_list(session, ann.id, weekly.id, "test")
        unsubscribe_everywhere(session, bob.id, "test")
    emails = lambda **kw: [r["email"] for r in export(engine, **kw)]  # noqa: E731
    assert emails(list_name="weekly") == ["cat@example.com"]  # bob's membership was left too
    assert emails(segment='tags has "vip"') == ["ann@example.com", "dan@example.com"]
    assert emails(list_name="daily", segment='tags has "vip"') == ["dan@example.com"]
    with pytest.raises(SubscriberError, match="no list named 'monthly'"):
        export(engine, list_name="monthly")
