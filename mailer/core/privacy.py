"""Keyed hashes of email addresses we must recognise but promise not to keep (forwarded-to
friends): HMAC-SHA256 under a key derived from SECRET_KEY, so the hash cannot be reversed by
hashing a list of known addresses without the key."""

from __future__ import annotations

import hashlib
import hmac

HASH_PREFIX = "h:"  # an events.email that is a hash, not an address


def address_hash(secret_key: str, email: str) -> str:
    key = hashlib.sha256(b"newsletter-addresses\x00" + secret_key.encode()).digest()
    return hmac.new(key, email.strip().lower().encode(), "sha256").hexdigest()
