"""validate_mail_send: SendGrid's schema plus the limits the schema cannot state."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from mailer.transport.mail_schema import (
    SCHEMA_PATH,
    _full_validator,
    bundled_examples,
    mail_send_errors,
    schema_errors,
    validate_mail_send,
)
from tests.fixtures.shared import shared_file
from tests.unit.transport.payloads import newsletter, personalization


def test_the_bundled_schema_is_the_shared_one_unmodified() -> None:
    shared = shared_file("sendgrid/tsg_mail_v3.json")
    assert SCHEMA_PATH.read_bytes() == shared.read_bytes()


@pytest.mark.parametrize("name", sorted(bundled_examples()))
def test_the_schemas_own_examples_validate(name: str) -> None:
    assert validate_mail_send(bundled_examples()[name]) == []


def test_a_full_newsletter_request_of_1000_personalizations_is_valid() -> None:
    assert validate_mail_send(newsletter(1000)) == []


def test_message_level_custom_args_must_be_an_object_of_strings() -> None:
    """The schema says `type: string`; the live API wants an object (facts.md §4)."""
    as_string = {**newsletter(), "custom_args": "nl_list=3"}
    assert any(e.startswith("custom_args") for e in validate_mail_send(as_string))
    with_number = {**newsletter(), "custom_args": {"nl_list": 3}}
    assert any(e.startswith("custom_args.nl_list") for e in validate_mail_send(with_number))


def _more_recipients(p: dict[str, Any]) -> None:
    p["personalizations"][0]["cc"] = [{"email": f"cc{i}@example.com"} for i in range(999)]


def _duplicate(p: dict[str, Any]) -> None:
    p["personalizations"][1]["to"] = [{"email": "READER0@example.com"}]


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(p: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = p
        for key in parents:
            node = node[int(key)] if key.isdigit() else node[key]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return change


def _delete(key: str) -> Callable[[dict[str, Any]], None]:
    return lambda p: p.pop(key)


VIOLATIONS: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "1001 personalizations": (
        lambda p: p.update(personalizations=[personalization(i) for i in range(1001)]),
        "personalizations: The personalization block is limited to 1000",
    ),
    "1001 recipients in total": (_more_recipients, "personalizations: There is a limit of 1000"),
    "the same address twice": (_duplicate, "personalizations.1.to: Each email address"),
    "html before text": (lambda p: p["content"].reverse(), "content: The content types"),
    "a reserved header": (_set("personalizations.0.headers.Reply-To", "x@example.com"), "reserved"),
    "a header value not a string": (_set("headers", {"X-Issue": 12}), "headers.X-Issue"),
    "a non-string custom arg": (_set("personalizations.0.custom_args.nl_sub", 3), "nl_sub"),
    "a non-string substitution": (
        _set("personalizations.0.substitutions.-n-", 3),
        "personalizations.0.substitutions.-n-",
    ),
    "substitutions over 10,000 bytes": (
        _set("personalizations.0.substitutions.-big-", "é" * 5000),
        "personalizations.0.substitutions: The substitutions may not exceed",
    ),
    "custom_args of 10,000 bytes": (_set("custom_args.blob", "x" * 10_000), "custom_args"),
    "no subject": (_delete("subject"), "subject: The subject is required"),
    "11 categories": (_set("categories", [f"c{i}" for i in range(11)]), "categories"),
    "an empty content value": (_set("content.0.value", ""), "content.0.value: The content value"),
    "no content": (_delete("content"), "content: Unless a valid template_id"),
    "no from": (_delete("from"), "from: The from object must be provided"),
    "a bad address": (_set("personalizations.0.to.0.email", "nobody"), "to.0.email: Does not"),
    "a comma in a name": (_set("personalizations.0.to.0.name", "Doe, J"), "to.0.name"),
    "no personalization": (_set("personalizations", []), "personalizations: The personalizations"),
    "reply_to and reply_to_list": (
        _set("reply_to_list", [{"email": "a@example.com"}]),
        "reply_to_list: reply_to and reply_to_list",
    ),
    "send_at four days ahead": (_set("send_at", int(time.time()) + 4 * 86400), "send_at"),
}


@pytest.mark.parametrize("name", sorted(VIOLATIONS))
def test_each_limit_is_enforced_with_a_field_and_a_message(name: str) -> None:
    change, expected = VIOLATIONS[name]
    payload = newsletter(3)
    change(payload)
    errors = validate_mail_send(payload)
    assert any(expected in error for error in errors), errors


def test_a_subject_in_every_personalization_is_enough() -> None:
    payload = newsletter(2)
    del payload["subject"]
    for person in payload["personalizations"]:
        person["subject"] = "Personal subject"
    assert validate_mail_send(payload) == []


def test_errors_carry_sendgrids_fields() -> None:
    payload = newsletter(2)
    payload["personalizations"][1]["to"][0]["email"] = "broken"
    [error] = mail_send_errors(payload)
    assert error.as_json() == {
        "message": "Does not contain a valid address.",
        "field": "personalizations.1.to.0.email",
        "help": None,
    }


def test_a_body_of_30_mb_is_refused() -> None:
    errors = mail_send_errors(newsletter(1), body_size=30 * 1024 * 1024)
    assert [str(e) for e in errors] == ["The total size of the message must be less than 30MB."]


SCHEMA_BREAKS: list[tuple[str, Any]] = [
    ("personalizations.0.to", "someone@example.com"),
    ("personalizations.0.to.0", {"name": "no address"}),
    ("personalizations.0.cc", [{"email": 5}]),
    ("personalizations.0.send_at", "tomorrow"),
    ("from", {"name": "no address"}),
    ("reply_to_list", [{"email": "a@example.com"}, {"email": "a@example.com"}]),
    ("attachments", [{"content": "eA==", "filename": "x.txt", "disposition": "sideways"}]),
    ("asm", {"group_id": 1, "groups_to_display": list(range(26))}),
    ("ip_pool_name", "x"),
    ("mail_settings", {"sandbox_mode": {"enable": "true"}}),
    ("categories", ["same", "same"]),
]


@pytest.mark.parametrize(("path", "value"), SCHEMA_BREAKS)
def test_the_fast_and_the_full_schema_validators_agree(path: str, value: Any) -> None:
    """The compiled validator decides and jsonschema explains: both must see the same break."""
    payload = newsletter(2)
    _set(path, value)(payload)
    assert not _full_validator().is_valid(payload)
    errors = schema_errors(payload)
    assert errors
    assert any((e.field or "").startswith(path.split(".")[0]) for e in errors)
    assert _full_validator().is_valid(newsletter(2))
    assert schema_errors(newsletter(2)) == []
