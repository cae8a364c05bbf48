"""Suppressions of addresses that are not subscribers: a forwarded-to friend who bounced,
complained or opted out. Their events carry only a keyed hash of the address (intake), and
the hash is all that is kept here; forwarding checks it before mailing anyone again."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.core.models import AddressSuppression
from mailer.core.privacy import HASH_PREFIX

REASONS = {
    "hard_bounce": "bounce",
    "bounced": "bounce",
    "complained": "complaint",
    "unsubscribed": "unsubscribe",
    "left_list": "unsubscribe",
}


def suppress_hashed(session: Session, judged: Iterable[tuple[str, str]]) -> int:
    """(events.email, verdict) pairs: suppress each hashed address a verdict calls for."""
    wanted: dict[str, str] = {}
    for email, verdict in judged:
        reason = REASONS.get(verdict)
        if reason and email.startswith(HASH_PREFIX):
            wanted.setdefault(email.removeprefix(HASH_PREFIX), reason)
    return _insert_new(session, wanted)


def _insert_new(session: Session, wanted: dict[str, str]) -> int:
    if not wanted:
        return 0
    known: Sequence[str] = session.scalars(
        select(AddressSuppression.address_hash).where(
            AddressSuppression.address_hash.in_(list(wanted))
        )
    ).all()
    new = {h: reason for h, reason in wanted.items() if h not in set(known)}
    session.add_all(AddressSuppression(address_hash=h, reason=r) for h, r in new.items())
    session.flush()
    return len(new)
