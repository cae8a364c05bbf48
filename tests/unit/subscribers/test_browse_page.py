"""A page of subscribers in one query: lists and tags right, and the API's JSON bytes equal to
what the Pydantic model writes."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine

from mailer.web.api.page_json import page_json
from mailer.web.api.schemas import SubscriberPage
from subscribers.browse import Page, Profile, page_subscribers
from subscribers.db import transaction
from subscribers.status import unsubscribe_everywhere
from subscribers.store import add_subscriber


def test_lists_and_tags_come_with_the_page_sorted(engine: Engine) -> None:
    with transaction(engine) as session:
        add_subscriber(session, "a@example.com", "Ann", ["Zeta", "alpha", "Beta"], ["b", "a"])
        bob = add_subscriber(session, "b@example.com", "Bob", ["Zeta"], [])
        add_subscriber(session, "c@example.com", "Cy", ["Beta"], ["x"], {"n": 2.5})
        session.flush()
        unsubscribe_everywhere(session, bob.id, "test")
    with transaction(engine) as session:
        first = page_subscribers(session, limit=2)
        rest = page_subscribers(session, cursor=first.next_cursor, limit=2)
        on_beta = page_subscribers(session, list_name="Beta")
    ann, bob = first.items
    assert ann.lists == ["Beta", "Zeta", "alpha"] and ann.tags == ["a", "b"]
    assert bob.lists == [] and bob.tags == []  # left every list: listed on none
    assert [p.email for p in rest.items] == ["c@example.com"] and rest.next_cursor is None
    assert rest.items[0].attrs == {"n": 2.5} and rest.items[0].lists == ["Beta"]
    assert [p.email for p in on_beta.items] == ["a@example.com", "c@example.com"]


def test_page_json_writes_what_pydantic_writes() -> None:
    when = datetime(2026, 12, 2, 15, 4, 5, 123456, tzinfo=UTC)
    people = [
        Profile("é@example.com", "Zoë \"q\" \\ \u2028", "active", None, ["a"], [], {}, when),
        Profile("b@example.com", "", "bounced", "Europe/Paris", [], ["t"],
                {"n": 1, "f": 0.1, "s": "ü", "b": True, "z": None, "big": 10**18},
                when.replace(microsecond=0)),
    ]  # fmt: skip
    for page in (Page(people, "42"), Page([], None)):
        expected = SubscriberPage.model_validate(page).model_dump_json().encode()
        assert page_json(page) == expected


def test_page_json_falls_back_for_numbers_orjson_cannot_write() -> None:
    when = datetime(2026, 12, 2, tzinfo=UTC)
    page = Page([Profile("a@example.com", "", "active", None, [], [], {"n": 10**30}, when)], None)
    assert b'"n":1000000000000000000000000000000' in page_json(page)
