"""Signed per-recipient link tokens and the URLs built from them.

A token is 21 bytes of payload (purpose, subscriber, list, send, issued-at, the subscriber's
link key) plus a 96-bit HMAC-SHA256 tag, base64url: 44 characters, unforgeable without
SECRET_KEY, and cheap enough to build four per recipient at send time (about a microsecond
each). The link key is a random number kept on the subscriber's row: the pages honour a token
only when it matches, so a deleted reader's links die even if the database reuses the id.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import hmac
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass

_LAYOUT = struct.Struct(">cIIIII")
_ID, _TAIL = struct.Struct(">I"), struct.Struct(">III")  # the same layout, in three parts
_TAG_BYTES = 12
# 21 + 12 bytes: a multiple of three, so the base64 text never has padding to strip
assert (_LAYOUT.size + _TAG_BYTES) % 3 == 0
_URLSAFE = bytes.maketrans(b"+/", b"-_")


class Purpose(enum.Enum):
    UNSUBSCRIBE = b"u"
    PREFERENCES = b"p"
    FORWARD = b"f"
    VIEW = b"v"
    CONFIRM = b"c"  # double opt-in; expires
    REFERRAL = b"r"  # the subscribe link a forwarded issue carries


ROUTE = {
    Purpose.UNSUBSCRIBE: "u",
    Purpose.PREFERENCES: "p",
    Purpose.FORWARD: "f",
    Purpose.VIEW: "v",
    Purpose.CONFIRM: "confirm",
}


# The subscriber id in a test copy's links: no real subscriber has it (ids start at 1), and
# the pages answer it as a test copy's, changing nothing.
TEST_SUBSCRIBER = 0


class BadToken(ValueError):
    """A token that is malformed, forged, expired or meant for another purpose."""


@dataclass(frozen=True, slots=True)
class Token:
    purpose: Purpose
    subscriber_id: int
    list_id: int = 0
    send_id: int = 0
    issued_at: int = 0
    key: int = 0  # the subscriber's link_key when the token was made


class Signer:
    """Makes and checks tokens with one key; build once, reuse per recipient."""

    def __init__(self, secret_key: str) -> None:
        key = hashlib.sha256(b"newsletter-links\x00" + secret_key.encode()).digest()
        # HMAC-SHA256 (RFC 2104) with its two keyed states computed once: a copy of each per
        # token costs a third of hmac.digest(), which keys both afresh every call.
        block = key.ljust(64, b"\x00")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))

    def _tag(self, payload: bytes) -> bytes:
        inner, outer = self._inner.copy(), self._outer.copy()
        inner.update(payload)
        outer.update(inner.digest())
        return outer.digest()[:_TAG_BYTES]

    def make(self, token: Token) -> str:
        payload = _LAYOUT.pack(
            token.purpose.value,
            token.subscriber_id,
            token.list_id,
            token.send_id,
            token.issued_at,
            token.key,
        )
        return base64.urlsafe_b64encode(payload + self._tag(payload)).decode()

    def maker(
        self, purpose: Purpose, list_id: int, send_id: int, issued_at: int
    ) -> Callable[[int, int], str]:
        """`make` for many subscribers of one send (the send path's hot loop): the same tokens,
        with the constant parts packed once instead of once per recipient."""
        head, tail = purpose.value, _TAIL.pack(list_id, send_id, issued_at)
        inner0, outer0, pack, b2a = self._inner, self._outer, _ID.pack, binascii.b2a_base64

        def make(subscriber_id: int, link_key: int) -> str:
            payload = head + pack(subscriber_id) + tail + pack(link_key)
            inner, outer = inner0.copy(), outer0.copy()
            inner.update(payload)
            outer.update(inner.digest())
            raw = payload + outer.digest()[:_TAG_BYTES]
            return b2a(raw, newline=False).translate(_URLSAFE).decode()

        return make

    def read(
        self, text: str, purpose: Purpose, max_age: int | None = None, now: float | None = None
    ) -> Token:
        """Verify and decode; raise BadToken naming why, never anything else."""
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        except (binascii.Error, ValueError) as exc:
            raise BadToken("malformed link") from exc
        if len(raw) != _LAYOUT.size + _TAG_BYTES:
            raise BadToken("malformed link")
        payload, tag = raw[: _LAYOUT.size], raw[_LAYOUT.size :]
        if not hmac.compare_digest(tag, self._tag(payload)):
            raise BadToken("link signature does not match")
        kind, subscriber_id, list_id, send_id, issued_at, key = _LAYOUT.unpack(payload)
        if kind != purpose.value:
            raise BadToken("link is for another page")
        if max_age is not None and (now or time.time()) - issued_at > max_age:
            raise BadToken("link has expired")
        return Token(purpose, subscriber_id, list_id, send_id, issued_at, key)


def link(base_url: str, signer: Signer, token: Token) -> str:
    return f"{base_url}/{ROUTE[token.purpose]}/{signer.make(token)}"
