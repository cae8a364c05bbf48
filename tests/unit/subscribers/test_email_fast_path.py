"""`check_email`'s short way for plain ASCII addresses agrees with email-validator everywhere.

`store._plain_and_valid` accepts a dot-atom local part on a domain the library has accepted
before, without calling the library for the whole address (a million-row import checks a
million addresses). These properties draw addresses near the rules' edges (dots, specials,
quotes, hyphens, punycode, lengths around 64 and 254, non-ASCII) and compare the verdicts.
"""

from __future__ import annotations

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import example, given, settings
from hypothesis import strategies as st

from subscribers.errors import SubscriberError
from subscribers.store import _plain_and_valid, check_email

_LOCAL_CHARS = "abcXYZ019.!#$%&'*+/=?^_`{|}~-\" (),:;<>@[\\]é"
_LABEL_CHARS = "abcxyzAZ019-_é"


def _library_accepts(email: str) -> bool:
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


labels = st.one_of(
    st.text(_LABEL_CHARS, min_size=0, max_size=8),
    st.sampled_from(["example", "xn--bcher-kva", "a" * 63, "a" * 64, "localhost", "123"]),
)
domains = st.builds(
    lambda parts, tld, dot: ".".join([*parts, tld]) + dot,
    st.lists(labels, min_size=0, max_size=4),
    st.sampled_from(["com", "org", "c", "test", "invalid", "example", "co.uk", "123", ""]),
    st.sampled_from(["", "", "", "."]),
)
locals_ = st.one_of(
    st.text(_LOCAL_CHARS, min_size=0, max_size=12),
    st.integers(60, 70).map(lambda n: "x" * n),
    st.integers(180, 260).map(lambda n: "y" * n),
)
addresses = st.builds(lambda local, domain: f"{local}@{domain}", locals_, domains)


@settings(max_examples=400, deadline=None)
@given(addresses)
@example("first.last+tag@sub.example.co.uk")
@example("a..b@example.com")
@example("x" * 64 + "@" + "d" * 63 + "." + "e" * 63 + "." + "f" * 60 + ".com")
def test_the_short_way_accepts_only_what_the_library_accepts(email: str) -> None:
    if _plain_and_valid(email):
        assert _library_accepts(email), email


@settings(max_examples=400, deadline=None)
@given(addresses)
def test_check_email_accepts_exactly_what_the_library_accepts(email: str) -> None:
    if _library_accepts(email.strip()):
        assert check_email(email) == email.strip()  # stored as given; compared lower-cased
    else:
        with pytest.raises(SubscriberError):
            check_email(email)


def test_the_short_way_takes_the_common_address() -> None:
    """Not vacuous: a plain address really skips the library's whole-address check."""
    assert _plain_and_valid("reader12@example7.com")
    assert not _plain_and_valid("josé@example.com")
    assert not _plain_and_valid('"quoted"@example.com')
