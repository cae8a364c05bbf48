"""Guard rails before a send is stored: the same issue twice, an empty audience.

Each guard raises a NewsletterError saying what is wrong and how to go on anyway (where one
can), so the CLI, the JSON API and the workspace refuse the same things with the same words.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.core.errors import NewsletterError
from mailer.core.models import Send, SendState

# A cancelled send never went: sending that issue again is not a repeat.
_NOT_A_REPEAT = (SendState.CANCELLED,)


def content_hash(subject: str, html: str, text: str) -> str:
    """The identity of a rendered issue: the same file rendered twice gives the same hash."""
    digest = hashlib.sha256()
    for part in (subject, html, text):
        digest.update(part.encode("utf-8"))
        digest.update(b"\x00")
    return digest.hexdigest()


def refuse_repeat(session: Session, list_id: int, digest: str, list_name: str) -> None:
    """Refuse an issue already sent, sending or scheduled to this list (unless --again)."""
    earlier = session.execute(
        select(Send.id, Send.state, Send.scheduled_at)
        .where(
            Send.list_id == list_id,
            Send.content_hash == digest,
            Send.test_to.is_(None),
            Send.state.not_in(_NOT_A_REPEAT),
        )
        .order_by(Send.id.desc())
        .limit(1)
    ).first()
    if earlier is None:
        return
    when = f" for {earlier.scheduled_at:%Y-%m-%d %H:%M} UTC" if earlier.scheduled_at else ""
    raise NewsletterError(
        f"this issue was already sent to list {list_name!r} (send {earlier.id}, "
        f"{earlier.state}{when}): add --again to send it once more"
    )


def refuse_empty(reach: int, list_name: str, segment: str | None) -> None:
    """An audience of nobody is a mistake (a misspelt segment, the wrong list), not a send."""
    if reach > 0:
        return
    matched = f" matches the segment {segment!r}" if segment else " is on it"
    raise NewsletterError(
        f"nobody would receive this send: no active subscriber of list {list_name!r}{matched}"
    )
