"""CSV import: every row accounted for, messy files read, nobody re-activated, idempotent."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from subscribers.db import transaction
from subscribers.errors import SubscriberError
from subscribers.importer import ImportResult, import_csv
from subscribers.models import Membership, MembershipStatus, Status, Subscriber
from subscribers.status import suppress, unsubscribe_everywhere, unsubscribe_from_list
from subscribers.store import add_subscriber, find_list, find_subscriber


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def rejected_rows(result: ImportResult) -> list[dict[str, str]]:
    assert result.rejected_file is not None
    with open(result.rejected_file, encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


def adds_up(result: ImportResult) -> bool:
    return result.rows == result.added + result.updated + result.unchanged + result.rejected


def person(engine: Engine, email: str) -> Subscriber:
    with transaction(engine) as session:
        found = find_subscriber(session, email)
        assert found is not None
        found.tag_names  # load tags inside the session  # noqa: B018
        return found


def test_every_bad_row_kind_is_rejected_with_line_and_reason(engine: Engine, workdir: Path) -> None:
    long_tag = "t" * 101
    path = write(
        workdir / "people.csv",
        "email,name,tags,timezone,status\n"
        "ann@example.com,Ann,,Europe/Paris,\n"  # line 2: fine
        ",No Email,,,\n"  # 3
        "not-an-email,Bad,,,\n"  # 4
        "tz@example.com,Tz,,Mars/Olympus,\n"  # 5
        "st@example.com,St,,,sleeping\n"  # 6
        "few@example.com,Few\n"  # 7
        "many@example.com,Many,,,,extra\n"  # 8
        f"tag@example.com,Tag,{long_tag},,\n"  # 9
        f"name@example.com,{'n' * 201},,,\n"  # 10
        "\n"  # 11: a blank line is not a row
        "bob@example.com,Bob,,,pending\n"  # 12
        ",,,,\n"  # 13: nor is a row of empty cells
        "nul@example.com,Nu\x00l,,,\n"  # 14
        f"long@example.com,{'n' * 200},,,\n"  # 15: exactly the longest name
        "anon@example.com,,,,\n",  # 16: no name at all
    )
    result = import_csv(engine, path)
    assert (result.rows, result.added, result.rejected) == (13, 4, 9)
    assert adds_up(result)
    assert result.rejected_file == str(workdir / "people.rejected.csv")
    reasons = {int(row["line"]): row["reason"] for row in rejected_rows(result)}
    assert set(reasons) == {3, 4, 5, 6, 7, 8, 9, 10, 14}
    assert reasons[3] == "missing email"
    assert "invalid email 'not-an-email'" in reasons[4]
    assert "unknown timezone 'Mars/Olympus'" in reasons[5]
    assert "unknown status 'sleeping'" in reasons[6]
    assert reasons[7] == "2 fields, but the header has 5"
    assert reasons[8] == "6 fields, but the header has 5"
    assert "tag longer than 100" in reasons[9]
    assert "name longer than 200" in reasons[10]
    assert reasons[14] == "column 2 holds a NUL character"
    assert (person(engine, "long@example.com").name, person(engine, "anon@example.com").name) == (
        "n" * 200,
        "",
    )
    first = rejected_rows(result)[0]
    assert first["email"] == "" and first["name"] == "No Email"  # the original columns follow


def test_bom_semicolons_quotes_and_newlines(engine: Engine, workdir: Path) -> None:
    path = write(
        workdir / "excel.csv",
        "\ufeffEmail;Name;Tags;City\r\n"
        'ann@example.com;"Ann; the ""first""";"a;B";"Paris\r\nRive gauche"\r\n'
        "bad;Bad;;\r\n"
        "bob@example.com;Bob;;Lyon\r\n",
    )
    result = import_csv(engine, path)
    assert (result.rows, result.added, result.rejected) == (3, 2, 1)
    assert rejected_rows(result)[0]["line"] == "4"  # the quoted newline made line 2 two lines
    ann = person(engine, "ann@example.com")
    assert ann.name == 'Ann; the "first"'
    assert ann.tag_names == ["a", "b"]
    assert ann.attrs == {"city": "Paris\r\nRive gauche"}


def test_a_trailing_delimiter_is_fine_but_an_unnamed_value_is_rejected(
    engine: Engine, workdir: Path
) -> None:
    path = write(workdir / "x.csv", "email,name,\nann@example.com,Ann,\nbob@example.com,Bob,??\n")
    result = import_csv(engine, path)
    assert (result.added, result.rejected) == (1, 1)
    assert rejected_rows(result)[0]["reason"] == (
        "a value in column 3, which has no name in the header"
    )


def test_tab_separated(engine: Engine, workdir: Path) -> None:
    path = write(workdir / "t.csv", "email\tname\ttags\nann@example.com\tAnn, Jr\tx;y\n")
    assert import_csv(engine, path).added == 1
    ann = person(engine, "ann@example.com")
    assert (ann.name, ann.tag_names) == ("Ann, Jr", ["x", "y"])


def test_numbers_are_stored_as_numbers_but_codes_stay_text(engine: Engine, workdir: Path) -> None:
    path = write(
        workdir / "n.csv",
        "email,score,ratio,zip,phone,account,plan\n"
        "ann@example.com,3,2.50,01234,+33612345678,12345678901234567890,pro\n",
    )
    import_csv(engine, path)
    assert person(engine, "ann@example.com").attrs == {
        "score": 3,
        "ratio": 2.5,
        "zip": "01234",
        "phone": "+33612345678",
        "account": "12345678901234567890",
        "plan": "pro",
    }


@pytest.mark.parametrize("batch_rows", [2, 5000])
def test_duplicates_merge_and_a_second_import_changes_nothing(
    engine: Engine, workdir: Path, batch_rows: int
) -> None:
    path = write(
        workdir / "dups.csv",
        "email,name,tags,score,city\n"
        "ann@example.com,Ann,a,5,Paris\n"
        "zed@example.com,Zed,,,\n"
        "ANN@example.com,,b,7,\n"  # same person: tags add up, later non-empty cells win
        "cat@example.com,Cat,,,\n"
        "ann@example.com,Annie,,,\n",
    )
    first = import_csv(engine, path, batch_rows=batch_rows)
    assert (first.rows, first.added, first.duplicates, first.unchanged) == (5, 3, 2, 2)
    assert adds_up(first)
    ann = person(engine, "ann@example.com")
    assert (ann.email, ann.name, ann.tag_names) == ("ann@example.com", "Annie", ["a", "b"])
    assert ann.attrs == {"score": 7, "city": "Paris"}
    second = import_csv(engine, path, batch_rows=batch_rows)
    assert (second.rows, second.unchanged, second.added, second.updated) == (5, 5, 0, 0)


def test_upsert_updates_only_what_differs(engine: Engine, workdir: Path) -> None:
    with transaction(engine) as session:
        add_subscriber(session, "ann@example.com", name="Ann", tags=["old"], attrs={"plan": "pro"})
        add_subscriber(session, "bob@example.com", name="Bob")
    path = write(
        workdir / "u.csv",
        "email,name,tags,plan\nANN@example.com,,new,\nbob@example.com,Bob,,\nnew@example.com,N,,\n",
    )
    result = import_csv(engine, path)
    assert (result.added, result.updated, result.unchanged) == (1, 1, 1)
    ann = person(engine, "ann@example.com")
    assert (ann.name, ann.tag_names, ann.attrs) == ("Ann", ["new", "old"], {"plan": "pro"})


def test_an_import_never_reactivates_anyone(engine: Engine, workdir: Path) -> None:
    with transaction(engine) as session:
        ids = {
            email: add_subscriber(session, email).id
            for email in ("u@example.com", "b@example.com", "c@example.com", "p@example.com")
        }
        unsubscribe_everywhere(session, ids["u@example.com"], "test")
        suppress(session, ids["b@example.com"], Status.BOUNCED, "hard bounce")
        suppress(session, ids["c@example.com"], Status.COMPLAINED, "spam report")
    path = write(
        workdir / "again.csv",
        "email,status,name\n"
        "u@example.com,active,U\n"
        "b@example.com,,B\n"
        "c@example.com,unsubscribed,C\n"  # weaker than a complaint: kept
        "p@example.com,bounced,P\n"  # a stronger state is applied
        "n@example.com,complained,N\n",  # a new person may arrive suppressed
    )
    result = import_csv(engine, path)
    assert result.status_kept == 2
    assert adds_up(result)
    statuses = {e: person(engine, e).status for e in ids} | {
        "n@example.com": person(engine, "n@example.com").status
    }
    assert statuses == {
        "u@example.com": Status.UNSUBSCRIBED,
        "b@example.com": Status.BOUNCED,
        "c@example.com": Status.COMPLAINED,
        "p@example.com": Status.BOUNCED,
        "n@example.com": Status.COMPLAINED,
    }
    assert person(engine, "u@example.com").name == "U"  # other columns still apply


def test_list_membership_is_added_but_a_left_list_stays_left(engine: Engine, workdir: Path) -> None:
    with transaction(engine) as session:
        gone = add_subscriber(session, "gone@example.com", list_names=["Weekly"])
        weekly = find_list(session, "weekly")
        assert weekly is not None
        unsubscribe_from_list(session, gone.id, weekly.id, "test")
    path = write(workdir / "l.csv", "email\ngone@example.com\nnew@example.com\n")
    result = import_csv(engine, path, list_name="weekly", create_list=True)
    assert (result.added, result.unchanged) == (1, 1)
    with transaction(engine) as session:
        states = dict(
            session.execute(
                select(Subscriber.email, Membership.status).join(
                    Membership, Membership.subscriber_id == Subscriber.id
                )
            ).all()
        )
    assert states == {
        "gone@example.com": MembershipStatus.UNSUBSCRIBED,
        "new@example.com": MembershipStatus.SUBSCRIBED,
    }
    assert import_csv(engine, path, list_name="WEEKLY").unchanged == 2


def test_a_file_that_is_not_utf8_is_refused_before_anything_is_written(
    engine: Engine, workdir: Path
) -> None:
    path = write(
        workdir / "latin.csv", "email,name\nann@example.com,Ann\nbob@example.com,Béa\n", "latin-1"
    )
    with pytest.raises(SubscriberError, match=r"line 3 \(byte 49\): not UTF-8 \(byte 0xe9\)"):
        import_csv(engine, path)
    with transaction(engine) as session:
        assert find_subscriber(session, "ann@example.com") is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "a header row is required"),
        ("name,tags\nAnn,x\n", "needs an 'email' column"),
        ("email,Email\na@example.com,b@example.com\n", "'email' appears twice"),
    ],
)
def test_bad_headers(engine: Engine, workdir: Path, text: str, message: str) -> None:
    with pytest.raises(SubscriberError, match=message):
        import_csv(engine, write(workdir / "h.csv", text))


def test_a_stale_rejected_file_is_removed(engine: Engine, workdir: Path) -> None:
    path = write(workdir / "s.csv", "email\nbad\n")
    assert import_csv(engine, path).rejected == 1
    assert (workdir / "s.rejected.csv").exists()
    write(path, "email\ngood@example.com\n")
    result = import_csv(engine, path)
    assert result.rejected_file is None and not (workdir / "s.rejected.csv").exists()


def test_progress_is_reported_in_bytes(engine: Engine, workdir: Path) -> None:
    path = write(workdir / "p.csv", "email\n" + "".join(f"r{i}@example.com\n" for i in range(9)))
    seen: list[tuple[int, int]] = []
    import_csv(engine, path, progress=lambda done, total: seen.append((done, total)), batch_rows=4)
    assert len(seen) == 3 and seen[-1] == (path.stat().st_size, path.stat().st_size)


def test_a_reimport_updates_zone_and_attributes_and_repeated_rows_merge(
    engine: Engine, workdir: Path
) -> None:
    """What the mutation run found unchecked: merged repeats keep the first row's cells where
    the later one is empty; a re-import changes zone, attributes, pending -> active, and only
    those; the same file again changes nothing; active never goes back to pending."""
    head = "email,name,timezone,status,city\n"
    first = import_csv(
        engine,
        write(
            workdir / "a.csv",
            head + "ann@example.com,Ann,Europe/Paris,pending,Paris\n"
            "bob@example.com,Bob,Asia/Tokyo,,Lyon\nbob@example.com,,,,\n"
            "cy@example.com,,,unsubscribed,\ncy@example.com,Cy,,,\n",
        ),
    )
    assert (first.added, first.rejected) == (3, 0)
    bob, cy = person(engine, "bob@example.com"), person(engine, "cy@example.com")
    assert (bob.name, bob.timezone, bob.status) == ("Bob", "Asia/Tokyo", Status.ACTIVE)
    assert (cy.name, cy.status) == ("Cy", Status.UNSUBSCRIBED)
    again = write(
        workdir / "b.csv",
        head + "ann@example.com,,America/New_York,active,Nice\n"
        "bob@example.com,,Europe/Berlin,,\ncy@example.com,,,,Rome\n",  # zone only, city only
    )
    assert import_csv(engine, again).updated == 3
    assert person(engine, "bob@example.com").timezone == "Europe/Berlin"
    assert person(engine, "cy@example.com").attrs == {"city": "Rome"}
    ann = person(engine, "ann@example.com")
    assert (ann.name, ann.timezone, ann.status) == ("Ann", "America/New_York", Status.ACTIVE)
    assert ann.attrs == {"city": "Nice"}
    assert import_csv(engine, again).unchanged == 3
    back = write(workdir / "c.csv", head + "ann@example.com,,,pending,\n")
    import_csv(engine, back)
    assert person(engine, "ann@example.com").status == Status.ACTIVE
