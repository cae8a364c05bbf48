"""The import's rules hold alike on SQLite's per-batch path and PostgreSQL's COPY + SQL merge.

Run with NEWSLETTER_TEST_DB=postgresql to exercise `subscribers.import_pg`; every assertion
here is the same on both databases except where a test says why it differs.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from subscribers.db import transaction
from subscribers.errors import SubscriberError
from subscribers.importer import import_csv
from subscribers.models import Membership, MembershipStatus, Status, Subscriber
from subscribers.status import suppress
from subscribers.store import add_subscriber, find_subscriber


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def stored(engine: Engine, email: str) -> Subscriber:
    with transaction(engine) as session:
        found = find_subscriber(session, email)
        assert found is not None
        found.tag_names  # load tags inside the session  # noqa: B018
        return found


def memberships(engine: Engine) -> dict[str, str]:
    with transaction(engine) as session:
        query = select(Subscriber.email, Membership.status).join(
            Membership, Membership.subscriber_id == Subscriber.id
        )
        return {email: status for email, status in session.execute(query)}


def test_status_moves_record_why_and_when(engine: Engine, workdir: Path) -> None:
    with transaction(engine) as session:
        add_subscriber(session, "pend@example.com", status=Status.PENDING)
        add_subscriber(session, "act@example.com", name="Act")
        bounced = add_subscriber(session, "bnc@example.com")
        suppress(session, bounced.id, Status.BOUNCED, "hard bounce")
    path = write(
        workdir / "s.csv",
        "email,status\n"
        "pend@example.com,active\n"  # pending -> active is allowed
        "act@example.com,unsubscribed\n"  # toward a suppression: allowed, stamped
        "bnc@example.com,active\n",  # never re-activated
    )
    result = import_csv(engine, path, list_name="weekly", create_list=True)
    assert (result.updated, result.unchanged, result.status_kept) == (3, 0, 1)
    pend, act, bnc = (stored(engine, f"{e}@example.com") for e in ("pend", "act", "bnc"))
    assert (pend.status, pend.status_reason) == (Status.ACTIVE, "import")
    assert pend.unsubscribed_at is None
    assert (act.status, act.status_reason) == (Status.UNSUBSCRIBED, "import")
    assert act.unsubscribed_at is not None and act.name == "Act"
    assert (bnc.status, bnc.status_reason) == (Status.BOUNCED, "hard bounce")
    # all three joined the list (that is the update for bnc); suppressed people join as left
    assert memberships(engine) == {
        "pend@example.com": MembershipStatus.SUBSCRIBED,
        "act@example.com": MembershipStatus.UNSUBSCRIBED,
        "bnc@example.com": MembershipStatus.UNSUBSCRIBED,
    }


def test_equal_values_and_known_tags_change_nothing(engine: Engine, workdir: Path) -> None:
    with transaction(engine) as session:
        add_subscriber(
            session, "ann@example.com", name="Ann", tags=["a"], attrs={"score": 5, "plan": "pro"}
        )
    path = write(
        workdir / "e.csv",
        "email,name,tags,score,plan,timezone\n"
        "ann@example.com,Ann,A,5.0,,\n"  # 5.0 == 5, tag case folds, empty cells leave alone
        "ann@example.com,,,,,\n",
    )
    result = import_csv(engine, path)
    assert (result.rows, result.unchanged, result.updated, result.duplicates) == (2, 2, 0, 1)
    ann = stored(engine, "ann@example.com")
    assert (ann.name, ann.tag_names, ann.timezone) == ("Ann", ["a"], None)
    result = import_csv(engine, write(workdir / "f.csv", "email,timezone\nann@example.com,UTC\n"))
    assert (result.updated, stored(engine, "ann@example.com").timezone) == (1, "UTC")


def test_new_people_get_ids_tags_and_lists(engine: Engine, workdir: Path) -> None:
    rows = "".join(f"p{i}@example.com,P{i},t{i % 3};all\n" for i in range(25))
    result = import_csv(
        engine,
        write(workdir / "n.csv", "email,name,tags\n" + rows),
        "weekly",
        batch_rows=7,
        create_list=True,
    )
    assert (result.rows, result.added) == (25, 25)
    p7 = stored(engine, "p7@example.com")
    assert (p7.name, p7.tag_names, p7.consent_source) == ("P7", ["all", "t1"], "import")
    assert set(memberships(engine).values()) == {MembershipStatus.SUBSCRIBED}
    assert len(memberships(engine)) == 25
    with transaction(engine) as session:  # later rows get larger ids, as the file is ordered
        ids = [
            session.scalar(select(Subscriber.id).where(Subscriber.email == f"p{i}@example.com"))
            for i in range(25)
        ]
    assert ids == sorted(ids)


def test_a_file_broken_halfway_writes_nothing(engine: Engine, workdir: Path) -> None:
    """The first pass reads the whole file, so a broken record stops the import before any
    batch is written (on PostgreSQL the writing is one transaction besides)."""
    good = "".join(f"g{i}@example.com,G\n" for i in range(10))
    broken = 'bad@example.com,"' + "x" * (1 << 20) + "\n"  # a runaway quote past the field limit
    path = write(workdir / "b.csv", "email,name\n" + good + broken)
    with pytest.raises(SubscriberError, match="unreadable CSV"):
        import_csv(engine, path, batch_rows=5)
    with transaction(engine) as session:
        count = session.scalar(select(func.count()).select_from(Subscriber))
    assert count == 0


@pytest.mark.parametrize("chunk_rows", [2, 50_000])
def test_an_import_stopped_halfway(engine: Engine, workdir: Path, chunk_rows: int) -> None:
    """SQLite keeps the batches it committed; on PostgreSQL the chunk in flight is waited for
    and the one transaction rolled back, so nothing of the stopped import is stored."""
    rows = "".join(f"s{i}@example.com,S\n" for i in range(12))
    path = write(workdir / "stop.csv", "email,name\n" + rows)

    def stop(done: int, size: int) -> None:
        raise KeyboardInterrupt  # the operator's Ctrl-C after the first batch

    with pytest.raises(KeyboardInterrupt):
        import_csv(engine, path, progress=stop, batch_rows=5, chunk_rows=chunk_rows)
    with transaction(engine) as session:
        count = session.scalar(select(func.count()).select_from(Subscriber))
    assert count == (0 if engine.dialect.name == "postgresql" else 5)
    assert import_csv(engine, path).rows == 12  # and the connection is usable again


@pytest.mark.parametrize("chunk_rows", [1, 3, 50_000])
def test_chunked_merges_count_and_apply_like_one(
    engine: Engine, workdir: Path, chunk_rows: int
) -> None:
    """PostgreSQL merges a chunk while the next is parsed: the same counts, rejects with their
    own lines, ids in file order, repeated emails merged across chunks (SQLite ignores it)."""
    with transaction(engine) as session:
        add_subscriber(session, "old@example.com", name="Old", tags=["t"])
        gone = add_subscriber(session, "gone@example.com", name="Gone")
        suppress(session, gone.id, Status.UNSUBSCRIBED, "asked")
    lines = ["email,name,tags,status"]
    lines += [f"n{i}@example.com,N{i},t{i % 2}," for i in range(7)]
    lines[3] = "not an email,X,,"  # line 4
    lines += ["old@example.com,Old,t;u,", "gone@example.com,,,active", "N1@example.com,,z,"]
    lines += ["n9@example.com,N9,,nonsense"]  # line 12
    path = write(workdir / "c.csv", "\n".join(lines) + "\n")
    result = import_csv(
        engine, path, "weekly", batch_rows=2, create_list=True, chunk_rows=chunk_rows
    )
    assert result.as_dict() | {"rejected_file": None} == {
        "rows": 11, "added": 6, "updated": 2, "unchanged": 1, "rejected": 2,
        "rejected_file": None, "duplicates": 1, "status_kept": 1,
    }  # fmt: skip
    rejected = (workdir / "c.rejected.csv").read_text(encoding="utf-8").splitlines()
    assert [line.split(",")[0] for line in rejected[1:]] == ["4", "12"]
    assert stored(engine, "gone@example.com").status == Status.UNSUBSCRIBED
    assert stored(engine, "old@example.com").tag_names == ["t", "u"]
    assert stored(engine, "n1@example.com").tag_names == ["t1", "z"]
    assert len(memberships(engine)) == 8
    # n1 is repeated: held back, merged and written last
    ids = [stored(engine, f"n{i}@example.com").id for i in (0, 3, 4, 5, 6)]
    assert ids == sorted(ids)


def test_a_database_error_in_a_later_chunk_stores_nothing(engine: Engine, workdir: Path) -> None:
    """The loader thread's error reaches the importer and rolls the whole import back on
    PostgreSQL (SQLite keeps the batches it committed before the failing one)."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("ALTER TABLE subscribers ADD CONSTRAINT boom CHECK (name <> 'B')")
        else:
            conn.exec_driver_sql(
                "CREATE TRIGGER boom BEFORE INSERT ON subscribers WHEN NEW.name = 'B' "
                "BEGIN SELECT RAISE(ABORT, 'boom'); END"
            )
    names = ["A"] * 7 + ["B"] + ["A"] * 2
    rows = "".join(f"e{i}@example.com,{name}\n" for i, name in enumerate(names))
    path = write(workdir / "e.csv", "email,name\n" + rows)
    with pytest.raises(Exception, match="boom"):
        import_csv(engine, path, batch_rows=3, chunk_rows=3)
    with transaction(engine) as session:
        count = session.scalar(select(func.count()).select_from(Subscriber))
    assert count == (0 if engine.dialect.name == "postgresql" else 6)
