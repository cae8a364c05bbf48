"""Link tokens: what the mutation run (scripts/mutate) found no test saying."""

from __future__ import annotations

import pytest

from mailer.readers.links import BadToken, Purpose, Signer, Token

# Made by this code for Signer("k") (since link keys, migration 0006): links already in inboxes
# must keep working after an upgrade.
KNOWN = (
    "dQAAACoAAAADAAAAB2VT8QAHW80VyI6T7VtwxNO3nG54",
    Token(Purpose.UNSUBSCRIBE, 42, 3, 7, 1_700_000_000, 123456789),
)


@pytest.mark.parametrize("text", ["abcde", "é" * 39, "A" * 38 + "é", "QUJD"])
def test_text_that_is_not_a_token_is_a_malformed_link(text: str) -> None:
    """Refused as malformed with words a reader's page can show, never a bare decode error."""
    with pytest.raises(BadToken, match=r"^malformed link$"):
        Signer("k").read(text, Purpose.UNSUBSCRIBE)


def test_a_token_made_before_still_reads_the_same() -> None:
    text, token = KNOWN
    assert Signer("k").make(token) == text
    assert Signer("k").read(text, Purpose.UNSUBSCRIBE) == token


def test_the_hot_loop_maker_makes_the_same_tokens_and_they_all_read_back() -> None:
    """Thousands of ids, so that every last character occurs (none may be lost to padding)."""
    signer = Signer("k")
    make = signer.maker(Purpose.VIEW, 3, 7, 1_700_000_000)
    for subscriber_id in range(0, 4096):
        token = Token(Purpose.VIEW, subscriber_id, 3, 7, 1_700_000_000, subscriber_id * 7919)
        text = make(subscriber_id, subscriber_id * 7919)
        assert text == signer.make(token)
        assert signer.read(text, Purpose.VIEW) == token


def test_each_refusal_says_why_in_words_for_the_reader() -> None:
    signer = Signer("k")
    text = signer.make(Token(Purpose.CONFIRM, 1, issued_at=1_000))
    assert signer.read(text, Purpose.CONFIRM, max_age=100, now=1_100).subscriber_id == 1
    refusals = {
        "link has expired": lambda: signer.read(text, Purpose.CONFIRM, max_age=100, now=1_101),
        "link is for another page": lambda: signer.read(text, Purpose.VIEW),
        "link signature does not match": lambda: Signer("other").read(text, Purpose.CONFIRM),
    }
    for words, refuse in refusals.items():
        with pytest.raises(BadToken, match=f"^{words}$"):
            refuse()
