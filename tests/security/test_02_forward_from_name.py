"""2. A long or padded name can never push "via <brand>" out of a forward's From name."""

from __future__ import annotations

from mailer.readers.messages import Sender, forward_payload

SENDER = Sender("news@example.test", "Weekly Bits")


def _from_name(forwarder: str) -> str:
    payload = forward_payload(SENDER, "friend@example.org", forwarder, "S", "t", "<p>h</p>", 1)
    return str(payload["from"]["name"])


def test_invisible_padding_cannot_cut_the_brand() -> None:
    name = _from_name("PayPal Security Team" + "\u2800" * 180)
    assert name == "PayPal Security Team via Weekly Bits"


def test_a_very_long_name_is_shortened_before_the_brand_is_added() -> None:
    name = _from_name("A" * 500)
    assert name.endswith(" via Weekly Bits") and len(name) <= 120


def test_bidi_control_and_zero_width_characters_are_removed() -> None:
    name = _from_name("Bob\u202e\u200b\u2066\x07 \u3164Smith\u00ad")
    assert name == "Bob Smith via Weekly Bits"


def test_a_name_of_nothing_visible_falls_back_to_someone() -> None:
    assert _from_name("\u2800\u200b \u115f") == "A reader via Weekly Bits"
