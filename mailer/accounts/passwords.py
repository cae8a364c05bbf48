"""Argon2id password hashes (argon2-cffi's defaults, RFC 9106's second recommendation)."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from mailer.core.errors import NewsletterError

MIN_LENGTH = 10
MAX_LENGTH = 1024  # Argon2 takes any length; this only bounds the work per request


@cache
def _hasher() -> PasswordHasher:
    return PasswordHasher()


def check_password(password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise NewsletterError(f"password: needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise NewsletterError(f"password: at most {MAX_LENGTH} characters")
    return password


def hash_password(password: str) -> str:
    return _hasher().hash(check_password(password))


@cache
def _decoy() -> str:
    return _hasher().hash("a decoy password nobody has")


def verify_password(stored: str | None, password: str) -> bool:
    """True when `password` matches; with no stored hash, spends the same time and says no,
    so a wrong address cannot be told from a wrong password by the clock."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _hasher().verify(stored or _decoy(), password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
