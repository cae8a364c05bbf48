"""Adding, finding and counting subscribers one at a time."""

from __future__ import annotations

import pytest
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import Engine

from subscribers.db import transaction
from subscribers.errors import SubscriberError
from subscribers.models import Status
from subscribers.status import unsubscribe_everywhere
from subscribers.store import (
    add_subscriber,
    check_email,
    find_list,
    find_subscriber,
    get_or_create_list,
    list_counts,
    segment_count,
)


def test_add_find_and_count(engine: Engine) -> None:
    with transaction(engine) as session:
        ann = add_subscriber(
            session,
            "Ann@Example.com",
            name="Ann",
            list_names=["Weekly"],
            tags=["VIP"],
            attrs={"Country": "FR"},
            timezone="Europe/Paris",
        )
        assert (ann.email, ann.email_norm, ann.consent_source) == (
            "Ann@Example.com",
            "ann@example.com",
            "cli",
        )
        add_subscriber(session, "bob@example.com", list_names=["weekly", "daily"])
        get_or_create_list(session, "empty")
        assert find_subscriber(session, "ANN@example.COM") is ann
        assert find_list(session, "WEEKLY") is not None
        assert list_counts(session) == [("daily", 1), ("empty", 0), ("Weekly", 2)]
        unsubscribe_everywhere(session, ann.id, "test")
        assert list_counts(session) == [("daily", 1), ("empty", 0), ("Weekly", 1)]
        again = add_subscriber(session, "ann@example.com", tags=["new"], list_names=["daily"])
        assert again.id == ann.id and again.status == Status.UNSUBSCRIBED  # never re-activated
        assert again.tag_names == ["new", "vip"]
        weekly = find_list(session, "weekly")
        assert weekly is not None
        assert segment_count(session, 'attr.country = "FR"') == 0  # only active people count
        assert segment_count(session, 'not tags has "vip"', weekly.id) == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"email": "nope"}, "invalid email 'nope'"),
        ({"email": "  "}, "missing email"),
        ({"email": "a@example.com", "timezone": "Moon/Base"}, "unknown timezone"),
        ({"email": "a@example.com", "attrs": {"email": "x"}}, "cannot be an attribute name"),
        ({"email": "a@example.com", "list_names": [""]}, "a list name needs"),
    ],
)
def test_add_refuses_bad_input(engine: Engine, kwargs: dict[str, object], message: str) -> None:
    with transaction(engine) as session, pytest.raises(SubscriberError, match=message):
        add_subscriber(session, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "email",
    [
        "plain@example.com",
        "first.last+tag@sub.example.co.uk",
        "a..b@example.com",
        ".a@example.com",
        "a@example",
        "a@-example.com",
        "a@example..com",
        "a@localhost",
        "a@example.test",
        "a@exa_mple.com",
        "x" * 65 + "@example.com",
        "a@" + "b" * 64 + ".com",
        "a@" + ".".join(["b" * 60] * 5) + ".com",
        "Ann <a@example.com>",
        '"quoted"@example.com',
        "josé@example.com",
        "a@xn--bcher-kva.example",
        "a@123.com",
        "a@example.c",
    ],
)
def test_check_email_agrees_with_email_validator(email: str) -> None:
    try:
        validate_email(email, check_deliverability=False)
        valid = True
    except EmailNotValidError:
        valid = False
    if valid:
        assert check_email(email) == email
    else:
        with pytest.raises(SubscriberError, match="invalid email"):
            check_email(email)
