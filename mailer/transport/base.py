"""The transport seam and its one tree of failure types, classified once, here.

Every transport takes the same input, a SendGrid v3 `mail/send` JSON payload (one body, up to
1000 personalizations with substitutions), so the send path has a single format whatever
carries it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

Payload = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Receipt:
    """What the provider answered when it accepted the request."""

    status: int
    message_id: str | None


class TransportError(Exception):
    """Base of every delivery failure."""


class TemporaryFailure(TransportError):
    """Try again later (5xx, timeouts, connection errors); `retry_after` seconds if known."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RateLimited(TemporaryFailure):
    """429: the whole send waits until the provider's reset time."""


class PermanentFailure(TransportError):
    """The provider refused this request as it is (4xx); retrying unchanged cannot help."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class UncertainOutcome(TransportError):
    """The request went out whole but no answer came back (connection dropped, read timeout):
    SendGrid may have accepted it and has no idempotency key, so it must not be retried blindly."""


class PayloadTooLarge(PermanentFailure):
    """413: split the batch and try the halves."""


class Transport(Protocol):
    def deliver(self, payload: Payload) -> Receipt:
        """Hand one request to the provider; raise a TransportError subclass on failure."""
        ...
