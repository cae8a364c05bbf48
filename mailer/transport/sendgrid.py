"""SendGrid v3 through the official `sendgrid` library; every failure classified once, here.

The library raises `python_http_client` HTTPError subclasses for non-2xx answers and lets
urllib/http.client errors through for network trouble (facts.md §2). Both become the one
exception tree of `mailer.transport.base`, so nothing else escapes for an HTTP or network
problem:

- 429 -> RateLimited (retry_after: seconds until X-RateLimit-Reset, if given)
- 5xx, 408, and network trouble before the request was sent whole (refused, unreachable,
  reset while sending: urllib wraps these in URLError) -> TemporaryFailure
- trouble after the request was sent whole, while waiting for the answer (dropped connection,
  read timeout, garbled answer) -> UncertainOutcome for a mail/send (SendGrid may have accepted
  it); TemporaryFailure for a read-only call, which is safe to repeat
- 413 -> PayloadTooLarge; any other status -> PermanentFailure with SendGrid's error text
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
from collections.abc import Mapping
from typing import Any

import orjson

from mailer.transport.lazy_webhook import defer_event_webhook

defer_event_webhook()  # before `sendgrid` is first imported: no cryptography in a worker

from python_http_client.exceptions import HTTPError  # noqa: E402
from sendgrid import SendGridAPIClient  # noqa: E402

from mailer.transport.base import (  # noqa: E402
    Payload,
    PayloadTooLarge,
    PermanentFailure,
    RateLimited,
    Receipt,
    TemporaryFailure,
    TransportError,
    UncertainOutcome,
)

SUPPRESSION_KINDS = ("bounces", "spam_reports", "unsubscribes")
_PAGE_SIZE = 500
_TEMPORARY_STATUSES = frozenset({408, 500, 502, 503, 504})
# The library hands a body through without json.dumps when the Content-Type is not exactly
# "application/json" (python_http_client's Client.http_request: `request_body.encode("utf-8")`);
# a charset parameter is still JSON by RFC 8259 (checked against the local server only).
_JSON_UTF8 = {"Content-Type": "application/json; charset=utf-8"}


class _Utf8Json:
    """orjson's UTF-8 bytes, handed to the library as its "string" body, which it encodes.

    Not a str: a str of JSON with one emoji in it takes four bytes a character (~3.5 MB for a
    batch), more than it saves; and not a bytes subclass, whose construction copies the bytes."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data

    def encode(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        return self.data


class SendGridTransport:
    """Delivers each payload with one `POST /v3/mail/send`."""

    def __init__(self, api_key: str, host: str, timeout: float) -> None:
        self.host = host.rstrip("/")
        self.timeout = timeout
        self._client = SendGridAPIClient(api_key=api_key, host=self.host)
        self._client.client.timeout = timeout
        # POST /v3/mail/send with headers of its own (the library shares one dict between a
        # client and the clients it builds): every body it posts is JSON text already.
        self._mail_send = self._client.client.mail.send
        self._mail_send.request_headers = {**self._mail_send.request_headers, **_JSON_UTF8}

    def deliver(self, payload: Payload) -> Receipt:
        # Serialised here rather than by the library's json.dumps: a batch of 1000 costs ~1 ms
        # of CPU instead of ~9, and the dict, the chunks of its JSON text, the text and its
        # bytes are no longer alive at once (traced peak 5.6 -> 2.8 MB).
        body = _Utf8Json(orjson.dumps(payload))
        response = _call(
            lambda: self._mail_send.post(request_body=body, timeout=self.timeout),
            sent_means_uncertain=True,
        )
        return Receipt(response.status_code, _header(response.headers, "X-Message-Id"))

    def suppressions(self, kind: str) -> list[dict[str, Any]]:
        """Every entry of one of SendGrid's global suppression lists, all pages."""
        if kind not in SUPPRESSION_KINDS:
            raise ValueError(f"unknown suppression list {kind!r}; use one of {SUPPRESSION_KINDS}")
        endpoint = getattr(self._client.client.suppression, kind)
        entries: list[dict[str, Any]] = []
        while True:
            query = {"limit": _PAGE_SIZE, "offset": len(entries)}
            response = _call(lambda q=query: endpoint.get(query_params=q, timeout=self.timeout))
            page = _json_list(response.body, kind)
            entries.extend(page)
            if len(page) < _PAGE_SIZE:
                return entries


def _call(request: Any, sent_means_uncertain: bool = False) -> Any:
    """Run one library call and translate every HTTP or network failure.

    urllib raises URLError for anything that failed while the request was being sent, and lets
    errors of `getresponse()` (after the whole body went out) through unwrapped."""
    try:
        return request()
    except HTTPError as error:
        raise classify_http_error(error) from error
    except urllib.error.URLError as error:
        raise TemporaryFailure(f"SendGrid unreachable: {error.reason}") from error
    except (TimeoutError, http.client.HTTPException, OSError) as error:
        raise _after_sending(error, sent_means_uncertain) from error


def _after_sending(error: BaseException, uncertain: bool) -> TransportError:
    if isinstance(error, TimeoutError):
        what = f"SendGrid did not answer in time: {error}"
    else:
        what = f"connection to SendGrid lost: {type(error).__name__}: {error}"
    if not uncertain:
        return TemporaryFailure(what)
    return UncertainOutcome(f"{what}, after the request was sent; it may have been accepted")


def classify_http_error(error: HTTPError) -> TransportError:
    """The one place where a SendGrid status becomes a failure type."""
    status = int(getattr(error, "status_code", 0) or 0)
    text = describe_errors(getattr(error, "body", b""))
    message = f"SendGrid answered {status}: {text}"
    if status == 429:
        return RateLimited(message, retry_after=retry_after(getattr(error, "headers", None)))
    if status in _TEMPORARY_STATUSES or status >= 500:
        return TemporaryFailure(message)
    if status == 413:
        return PayloadTooLarge(message, status)
    return PermanentFailure(message, status)


def retry_after(headers: Mapping[str, str] | None, now: float | None = None) -> float | None:
    """Seconds until `X-RateLimit-Reset` (epoch seconds), or None when absent or unreadable."""
    reset = _header(headers, "X-RateLimit-Reset")
    if reset is None:
        return None
    try:
        moment = float(reset)
    except ValueError:
        return None
    return max(0.0, moment - (time.time() if now is None else now))


def describe_errors(body: bytes | str | None) -> str:
    """SendGrid's `errors[]` as one line: `message (field)`; the raw body when it is not JSON."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if not body:
        return "no error text"
    try:
        errors = json.loads(body)["errors"]
        parts = []
        for item in errors:
            field = item.get("field")
            parts.append(f"{item.get('message')} ({field})" if field else str(item.get("message")))
        return "; ".join(parts) or body
    except (ValueError, KeyError, TypeError, AttributeError):
        return body[:500]


def _header(headers: Any, name: str) -> str | None:
    if headers is None:
        return None
    value = headers.get(name)
    if value is None and hasattr(headers, "items"):
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), None)
    return None if value is None else str(value)


def _json_list(body: bytes | str, kind: str) -> list[dict[str, Any]]:
    try:
        data = json.loads(body or b"[]")
    except ValueError as error:
        raise PermanentFailure(f"SendGrid's {kind} list is not JSON: {error}") from error
    if not isinstance(data, list):
        raise PermanentFailure(f"SendGrid's {kind} list is not a JSON array")
    return data
