"""The outbox: one parseable .eml per personalization, as SendGrid would have built it."""

from __future__ import annotations

import json
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from mailer.transport.base import PermanentFailure
from mailer.transport.outbox import CUSTOM_ARGS_HEADER, MESSAGE_ID_HEADER, OutboxTransport
from tests.unit.transport.payloads import newsletter


def _read(path: Path) -> EmailMessage:
    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def test_each_personalization_becomes_one_eml_file(tmp_path: Path) -> None:
    receipt = OutboxTransport(tmp_path / "outbox").deliver(newsletter(3))
    files = sorted((tmp_path / "outbox").glob("*.eml"))
    assert receipt.status == 202
    assert receipt.message_id is not None
    assert [f.name for f in files] == [f"{receipt.message_id}-{i:04d}.eml" for i in range(3)]
    assert not list((tmp_path / "outbox").glob("*.tmp"))


def test_headers_and_substitutions_are_those_of_the_recipient(tmp_path: Path) -> None:
    OutboxTransport(tmp_path).deliver(newsletter(2))
    message = _read(sorted(tmp_path.glob("*-0001.eml"))[0])
    assert message["To"] == "Reader 1 <reader1@example.com>"
    assert message["From"] == "The Newsletter <news@example.test>"
    assert message["Reply-To"] == "editor@example.test"
    assert message["Subject"] == "Issue 12 for Reader 1"
    assert message["List-Unsubscribe"] == "<https://news.example.test/u/token1>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Id"] == "<weekly.news.example.test>"
    assert json.loads(message[CUSTOM_ARGS_HEADER]) == {
        "nl_list": "3",
        "nl_send": "7",
        "nl_sub": "1",
    }
    assert message[MESSAGE_ID_HEADER]


def test_text_comes_before_html_and_both_are_personalised(tmp_path: Path) -> None:
    OutboxTransport(tmp_path).deliver(newsletter(1))
    message = _read(next(tmp_path.glob("*.eml")))
    assert message.get_content_type() == "multipart/alternative"
    parts = list(message.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    text, html = (p.get_content() for p in parts)
    assert "Hello Reader 0" in text
    assert "https://news.example.test/u/token0" in text
    assert 'href="https://news.example.test/u/token0"' in html
    assert "-unsubscribe_url-" not in text + html


def test_a_substituted_value_is_not_substituted_again(tmp_path: Path) -> None:
    payload = newsletter(1)
    payload["personalizations"][0]["substitutions"]["-subscriber_name-"] = "-unsubscribe_url-"
    OutboxTransport(tmp_path).deliver(payload)
    message = _read(next(tmp_path.glob("*.eml")))
    assert message["Subject"] == "Issue 12 for -unsubscribe_url-"


def test_a_request_sendgrid_would_refuse_is_refused(tmp_path: Path) -> None:
    payload = newsletter(1)
    payload["content"].reverse()
    with pytest.raises(PermanentFailure, match="content") as raised:
        OutboxTransport(tmp_path).deliver(payload)
    assert raised.value.status == 400
    assert not list(tmp_path.glob("*.eml"))
