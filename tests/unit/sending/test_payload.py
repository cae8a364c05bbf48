"""One SendGrid payload per batch: valid, personal links, the headers mailbox providers want."""

from __future__ import annotations

from dataclasses import replace

from mailer.issue import placeholders as ph
from mailer.readers.links import Purpose, Signer
from mailer.sending.payload import (
    LinkContext,
    Message,
    Recipient,
    as_test_copy,
    build_payload,
    display_name,
    list_id_header,
)
from mailer.transport.mail_schema import validate_mail_send

SIGNER = Signer("k")
BASE = "https://news.example.test"
MESSAGE = Message(
    subject="Weekly for -subscriber_name-",
    html=f'<p>Hi {ph.NAME}</p><a href="{ph.UNSUBSCRIBE_URL}">u</a>'
    f'<a href="{ph.PREFERENCES_URL}">p</a><a href="{ph.FORWARD_URL}">f</a>'
    f'<a href="{ph.VIEW_URL}">v</a>',
    text=f"Hi {ph.NAME}\nUnsubscribe: {ph.UNSUBSCRIBE_URL}\nView: {ph.VIEW_URL}",
    from_email="news@example.com",
    from_name="The Weekly",
    list_id_header=list_id_header("Weekly Bits", "lists.example.com"),
    reply_to="editor@example.com",
)


def ctx(mailto: str | None = None) -> LinkContext:
    return LinkContext(
        BASE, SIGNER, send_id=7, list_id=3, issued_at=1_700_000_000, unsubscribe_mailto=mailto
    )


def people(n: int) -> list[Recipient]:
    return [Recipient(i + 1, f"reader{i}@example.org", f"Reader, No; {i}") for i in range(n)]


def test_a_full_batch_validates_against_sendgrids_schema_and_limits() -> None:
    payload = build_payload(MESSAGE, ctx("unsub@example.com"), people(1000))
    assert validate_mail_send(payload) == []
    assert [c["type"] for c in payload["content"]] == ["text/plain", "text/html"]
    assert len(payload["personalizations"]) == 1000
    assert payload["categories"] == ["newsletter"]
    assert payload["reply_to"] == {"email": "editor@example.com"}
    assert payload["headers"] == {"List-Id": "Weekly Bits <weekly-bits.lists.example.com>"}


def test_each_recipient_gets_signed_links_bound_to_them_the_list_and_the_send() -> None:
    payload = build_payload(MESSAGE, ctx(), people(2))
    first = payload["personalizations"][0]
    subs = first["substitutions"]
    assert set(subs) == set(ph.ALL)
    for tag, route, purpose in [
        (ph.UNSUBSCRIBE_URL, "u", Purpose.UNSUBSCRIBE),
        (ph.PREFERENCES_URL, "p", Purpose.PREFERENCES),
        (ph.FORWARD_URL, "f", Purpose.FORWARD),
        (ph.VIEW_URL, "v", Purpose.VIEW),
    ]:
        prefix = f"{BASE}/{route}/"
        assert subs[tag].startswith(prefix)
        token = SIGNER.read(subs[tag].removeprefix(prefix), purpose)
        assert (token.subscriber_id, token.list_id, token.send_id) == (1, 3, 7)
    second = payload["personalizations"][1]["substitutions"]
    assert second[ph.UNSUBSCRIBE_URL] != subs[ph.UNSUBSCRIBE_URL]


def test_one_click_unsubscribe_headers_and_custom_args() -> None:
    payload = build_payload(MESSAGE, ctx("unsub@example.com"), people(1))
    person = payload["personalizations"][0]
    unsubscribe = person["substitutions"][ph.UNSUBSCRIBE_URL]
    assert person["headers"]["List-Unsubscribe"].startswith(
        f"<{unsubscribe}>, <mailto:unsub@example.com?"
    )
    assert person["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert person["custom_args"] == {"nl_send_id": "7", "nl_subscriber_id": "1", "nl_list_id": "3"}
    without = build_payload(MESSAGE, ctx(), people(1))["personalizations"][0]
    assert without["headers"]["List-Unsubscribe"] == f"<{unsubscribe}>"


def test_every_recipient_of_a_batch_request_carries_the_batch_number_back() -> None:
    """SendGrid's events return custom_args: nl_batch settles a batch whose answer was lost."""
    for seq in (0, 4):  # batch 0 too: a number, not a truth value
        numbered = replace(ctx(), batch_seq=seq)
        for person in build_payload(MESSAGE, numbered, people(2))["personalizations"]:
            assert person["custom_args"]["nl_batch"] == str(seq)
            assert len(person["custom_args"]) == 4


def test_names_lose_the_characters_sendgrid_refuses() -> None:
    payload = build_payload(MESSAGE, ctx(), people(1))
    assert payload["personalizations"][0]["to"] == [
        {"email": "reader0@example.org", "name": "Reader No 0"}
    ]
    assert payload["personalizations"][0]["substitutions"][ph.NAME] == "Reader No 0"
    assert display_name(' "Ada" <x>, ') == "Ada x"
    nameless = build_payload(MESSAGE, ctx(), [Recipient(5, "a@example.org", "")])
    assert nameless["personalizations"][0]["to"] == [{"email": "a@example.org"}]
    assert validate_mail_send(nameless) == []


def test_only_placeholders_the_issue_uses_are_substituted() -> None:
    plain = Message("Hello", "<p>hi</p>", "hi", "n@example.com", "", "<x.example.com>")
    person = build_payload(plain, ctx(), people(1))["personalizations"][0]
    assert "substitutions" not in person
    assert person["headers"]["List-Unsubscribe"].startswith(f"<{BASE}/u/")


def test_a_test_copy_says_so() -> None:
    copy = build_payload(as_test_copy(MESSAGE), ctx(), [Recipient(0, "me@example.org", "Me")])
    assert copy["subject"].startswith("[TEST] ")
    assert copy["categories"] == ["newsletter", "test"]  # so reports can leave it out
    assert validate_mail_send(copy) == []


def test_the_batch_token_maker_makes_exactly_the_tokens_of_make() -> None:
    from mailer.readers.links import Token

    for purpose in Purpose:
        make = SIGNER.maker(purpose, 3, 7, 1_700_000_000)
        for subscriber, key in ((0, 0), (1, 9), (65_537, 2**31 - 1), (2**32 - 1, 12345)):
            token = Token(purpose, subscriber, 3, 7, 1_700_000_000, key)
            assert make(subscriber, key) == SIGNER.make(token)


def test_a_subscribers_own_copy_has_no_banner_slot() -> None:
    from mailer.issue.placeholders import TEXT_BANNER_MARKER, without_banner

    text = f"Brand\n\n{TEXT_BANNER_MARKER}\n\nSubject\n=======\n"
    assert without_banner(text) == "Brand\n\nSubject\n=======\n"


def test_the_list_id_is_a_phrase_and_a_slug_of_the_list_name() -> None:
    """Called inside the test (MESSAGE above is built at import, before a mutant is active)."""
    assert list_id_header("Weekly Bits", "l.example") == "Weekly Bits <weekly-bits.l.example>"
    assert list_id_header("  R&D: News!! ", "l.example") == "R&D: News!! <r-d-news.l.example>"
    assert list_id_header('Été"2026', "l.example") == "Été 2026 <t-2026.l.example>"
    assert list_id_header("<;>", "l.example") == "<list.l.example>"


def test_the_sender_s_name_is_cleaned_or_left_out() -> None:
    named = build_payload(replace(MESSAGE, from_name='The "Weekly", Bits'), ctx(), people(1))
    assert named["from"] == {"email": "news@example.com", "name": "The Weekly Bits"}
    bare = build_payload(replace(MESSAGE, from_name=" ; "), ctx(), people(1))
    assert bare["from"] == {"email": "news@example.com"}
