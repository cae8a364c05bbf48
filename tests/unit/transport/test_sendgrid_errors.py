"""How SendGrid answers are classified into the transport failure tree (no network)."""

from __future__ import annotations

import json
from email.message import Message
from io import BytesIO
from urllib.error import HTTPError as UrllibHTTPError

import pytest
from python_http_client.exceptions import handle_error

from mailer.transport.base import (
    PayloadTooLarge,
    PermanentFailure,
    RateLimited,
    TemporaryFailure,
    TransportError,
)
from mailer.transport.sendgrid import classify_http_error, describe_errors, retry_after


def _http_error(status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> object:
    message = Message()
    for name, value in (headers or {}).items():
        message[name] = value
    error = UrllibHTTPError("http://x/v3/mail/send", status, "status", message, BytesIO(body))
    return handle_error(error)


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, PermanentFailure),
        (401, PermanentFailure),
        (403, PermanentFailure),
        (404, PermanentFailure),
        (413, PayloadTooLarge),
        (415, PermanentFailure),
        (429, RateLimited),
        (500, TemporaryFailure),
        (502, TemporaryFailure),
        (503, TemporaryFailure),
        (504, TemporaryFailure),
    ],
)
def test_each_status_has_one_failure_type(status: int, kind: type[TransportError]) -> None:
    failure = classify_http_error(_http_error(status))
    assert type(failure) is kind
    if isinstance(failure, PermanentFailure):
        assert failure.status == status


def test_a_permanent_failure_carries_sendgrids_text_and_field() -> None:
    body = json.dumps(
        {"errors": [{"message": "Does not contain a valid address.", "field": "from.email"}]}
    ).encode()
    failure = classify_http_error(_http_error(400, body))
    assert "Does not contain a valid address. (from.email)" in str(failure)


def test_rate_limited_waits_until_the_reset_time() -> None:
    assert retry_after({"X-RateLimit-Reset": "1000"}, now=990.5) == 9.5
    assert retry_after({"X-RateLimit-Reset": "1000"}, now=1010) == 0.0
    assert retry_after({}, now=0) is None
    assert retry_after({"X-RateLimit-Reset": "soon"}, now=0) is None


def test_describe_errors_keeps_a_body_that_is_not_json() -> None:
    assert describe_errors(b"<html>bad gateway</html>") == "<html>bad gateway</html>"
    assert describe_errors(b"") == "no error text"
