"""The subscriber search: a part of an address or name, through the trigram index, on both
databases; the index follows every write; the plan uses it for a rare text."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, text, update

from subscribers import search
from subscribers.browse import _page_query, page_subscribers
from subscribers.db import transaction
from subscribers.editing import Changes, anonymise, update_subscriber
from subscribers.importer import import_csv
from subscribers.models import Subscriber
from subscribers.status import unsubscribe_everywhere
from subscribers.store import add_subscriber, find_subscriber


def found(engine: Engine, q: str, **filters: str) -> list[str]:
    """Every address the search finds, following the cursor through pages of two."""
    emails: list[str] = []
    cursor: str | None = None
    with transaction(engine) as session:
        while True:
            page = page_subscribers(session, q=q, cursor=cursor, limit=2, **filters)
            emails += [p.email for p in page.items]
            if page.next_cursor is None:
                return emails
            cursor = page.next_cursor


@pytest.fixture
def people(engine: Engine) -> Engine:
    with transaction(engine) as session:
        add_subscriber(session, "ann.marchetti@example.com", "Ann", ["weekly"])
        add_subscriber(session, "bob@Marchand.example", "Robert Dupont", ["weekly"])
        add_subscriber(session, "cy@example.org", "Cyrille MARCHAL", ["other"])
        gone = add_subscriber(session, "dee@example.org", "Dee Marchesi", ["weekly"])
        add_subscriber(session, "eve@example.net", 'Eve 100% "real"', ["weekly"])
        session.flush()
        unsubscribe_everywhere(session, gone.id, "test")
    return engine


def test_a_middle_of_address_or_name_any_case_with_filters_and_pages(people: Engine) -> None:
    everyone = ["ann.marchetti@example.com", "bob@Marchand.example", "cy@example.org",
                "dee@example.org"]  # fmt: skip
    assert found(people, "ARCH") == everyone  # address or name, any case, in id order
    assert found(people, "rcha") == everyone[1:3]  # marchand, MARCHAL
    assert found(people, "ARCH", list_name="weekly") == [everyone[0], everyone[1], everyone[3]]
    assert found(people, "arch", status="active") == everyone[:3]
    assert found(people, "arch", list_name="weekly", status="unsubscribed") == [everyone[3]]
    assert found(people, "bert dup") == ["bob@Marchand.example"]  # across the name's space
    assert found(people, '100% "real') == ["eve@example.net"]  # LIKE and FTS5 quoting
    assert found(people, "100_") == [] and found(people, "zzz") == []
    assert found(people, "ar") == everyone  # under three characters: the walk
    assert found(people, "arch", segment='name contains "Mar"') == [everyone[3]]


@pytest.mark.parametrize("window", [1, 2, 3, 1000])
def test_pages_neither_skip_nor_repeat_across_the_window(
    people: Engine, window: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL walks WINDOW ids, then asks the index for the rest: the seams hold."""
    monkeypatch.setattr(search, "WINDOW", window)
    assert found(people, "example") == [
        "ann.marchetti@example.com", "bob@Marchand.example", "cy@example.org",
        "dee@example.org", "eve@example.net"]  # fmt: skip
    assert found(people, ".org") == ["cy@example.org", "dee@example.org"]
    assert found(people, "eve@") == ["eve@example.net"]


def test_the_index_follows_imports_edits_deletes_and_raw_sql(people: Engine, workdir: Path) -> None:
    source = workdir / "people.csv"
    source.write_text("email,name\nfay@quokka.example,Fay\nann.marchetti@example.com,Annabel Q\n")
    import_csv(people, source, list_name="weekly")
    assert found(people, "quokk") == ["fay@quokka.example"]  # a new person
    assert found(people, "nabel") == ["ann.marchetti@example.com"]  # a new name
    with transaction(people) as session:
        fay = find_subscriber(session, "fay@quokka.example")
        assert fay is not None
        update_subscriber(session, fay, Changes(name="Fayola Wombat"))
        session.execute(
            update(Subscriber)
            .where(Subscriber.email_norm == "cy@example.org")
            .values(email="cy@koala.example", email_norm="cy@koala.example")
        )
        session.execute(delete(Subscriber).where(Subscriber.email_norm == "dee@example.org"))
        session.execute(text("UPDATE subscribers SET status = 'bounced' WHERE name = 'Ann'"))
    assert found(people, "wombat") == ["fay@quokka.example"] and found(people, "fayola") != []
    assert found(people, "koala") == ["cy@koala.example"] and found(people, "cy@exa") == []
    assert found(people, "marches") == []  # deleted
    assert found(people, "nabel") == ["ann.marchetti@example.com"]  # a status change kept it


def test_an_erased_persons_text_is_found_no_more(people: Engine) -> None:
    with transaction(people) as session:
        person = add_subscriber(session, "zyzzyva@example.net", "Zyzzyva Qoph")
        session.flush()
        tombstone = anonymise(session, person)
    assert found(people, "zyzzy") == [] and found(people, "qoph") == []
    assert found(people, tombstone.split("@")[0]) == [tombstone]
    if people.dialect.name == "sqlite":  # not even in the FTS5 segments (positions included)
        with people.connect() as conn:
            blobs = conn.execute(text("SELECT block FROM subscriber_search_data")).scalars()
            data = b"".join(bytes(block or b"") for block in blobs)
        assert b"qop" not in data and b"zyv" not in data  # terms not shared with a prefix


def test_a_rare_text_is_an_index_lookup_not_a_scan(people: Engine) -> None:
    dialect = people.dialect.name
    how = "fts" if dialect == "sqlite" else "trigram"
    query = _page_query(dialect, False, False, how)
    values: dict[str, object] = {"after": 0, "rows": 51}
    values |= {"pattern": "%r123456@%", "match": search.phrase("r123456@")}
    with people.connect() as conn:
        compiled = query.compile(conn)
        values = compiled.params | values
        if dialect == "sqlite":
            plan = conn.exec_driver_sql(
                f"EXPLAIN QUERY PLAN {compiled.string}",
                tuple(values[k] for k in compiled.positiontup or []),
            ).all()
            steps = [row[-1] for row in plan]
            assert steps[0].startswith("SCAN subscriber_search VIRTUAL TABLE INDEX")
            assert "SEARCH subscribers USING INTEGER PRIMARY KEY" in steps[1]
            assert not any(s.startswith("USE TEMP B-TREE FOR ORDER BY") for s in steps)
            return
        conn.exec_driver_sql(_MANY)  # so that the planner weighs a scan against the index
        conn.exec_driver_sql("ANALYZE subscribers")
        for scan in ("seqscan", "indexscan"):  # a small table: still a cheap walk
            conn.exec_driver_sql(f"SET enable_{scan} = off")
        plan = "\n".join(conn.exec_driver_sql(f"EXPLAIN {compiled.string}", values).scalars())
    assert "Bitmap Index Scan on ix_subscribers_search_email" in plan
    assert "Bitmap Index Scan on ix_subscribers_search_name" in plan
    assert "Seq Scan on subscribers" not in plan


_MANY = """
INSERT INTO subscribers (email, email_norm, name, status, attrs, created_at, updated_at,
  bounce_count, soft_bounce_count, link_key)
SELECT 'p' || n || '@example.com', 'p' || n || '@example.com', 'Person ' || n, 'active', '{}',
  now(), now(), 0, 0, 1
FROM generate_series(1, 50000) AS n
"""
