"""Test copies of a stored issue: one copy per address, with working links.

Each copy is recorded as its own test send (never archived), so the sends list shows what went
to whom, and the pre-flight page can tell whether the issue was tested.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import Engine

from mailer.core.errors import NewsletterError
from mailer.core.settings import Settings
from mailer.sending.create import Frozen, send_test_copy
from mailer.transport.base import Transport

MAX_ADDRESSES = 10
_SPLIT = re.compile(r"[\s,;]+")


@dataclass(frozen=True, slots=True)
class TestCopy:
    to: str
    send_id: int


def parse_addresses(text: str) -> list[str]:
    """Addresses separated by commas, spaces or new lines; an error names the bad one."""
    found: list[str] = []
    for raw in _SPLIT.split(text.strip()):
        if not raw:
            continue
        try:
            address = validate_email(raw, check_deliverability=False).normalized
        except EmailNotValidError as exc:
            raise NewsletterError(f"{raw!r} is not an email address: {exc}") from exc
        if address not in found:
            found.append(address)
    if not found:
        raise NewsletterError("give at least one address")
    if len(found) > MAX_ADDRESSES:
        raise NewsletterError(f"at most {MAX_ADDRESSES} addresses per test (got {len(found)})")
    return found


def send_test_copies(
    engine: Engine,
    settings: Settings,
    transport: Transport,
    frozen: Frozen,
    addresses: list[str],
    now: datetime,
) -> list[TestCopy]:
    return [
        TestCopy(to, send_test_copy(engine, settings, transport, frozen, to, now)[0])
        for to in addresses
    ]
