"""Pure: one SendGrid v3 mail/send payload per batch, from the once-rendered issue.

The body is the same for every recipient; only the personalization (to, substitutions for
the signed links and the name, List-Unsubscribe header, custom_args) differs. Everything that
is shared is built once per batch, so the per-recipient cost is four HMACs and a small dict.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from mailer.issue import placeholders as ph
from mailer.readers.links import ROUTE, Purpose, Signer
from mailer.transport.base import Payload

CATEGORY = "newsletter"
ONE_CLICK = "List-Unsubscribe=One-Click"
_LINKS = (
    (ph.UNSUBSCRIBE_URL, Purpose.UNSUBSCRIBE),
    (ph.PREFERENCES_URL, Purpose.PREFERENCES),
    (ph.FORWARD_URL, Purpose.FORWARD),
    (ph.VIEW_URL, Purpose.VIEW),
)
_NAME_UNSAFE = re.compile(r"[,;\"\r\n<>]+")


@dataclass(frozen=True, slots=True)
class Message:
    """What every recipient of a send gets: the frozen issue and the sender identity."""

    subject: str
    html: str
    text: str
    from_email: str
    from_name: str
    list_id_header: str  # e.g. "Weekly <weekly.newsletter.local>"
    reply_to: str | None = None
    categories: tuple[str, ...] = (CATEGORY,)


@dataclass(frozen=True, slots=True)
class LinkContext:
    """Who the links are for: one send to one list, signed with one key."""

    base_url: str
    signer: Signer
    send_id: int
    list_id: int
    issued_at: int
    unsubscribe_mailto: str | None = None
    # Which batch's request this is: SendGrid's events carry it back (nl_batch), the evidence
    # that settles a batch whose answer was lost.
    batch_seq: int | None = None


@dataclass(frozen=True, slots=True)
class Recipient:
    subscriber_id: int
    email: str
    name: str = ""
    link_key: int = 0  # Subscriber.link_key: the reader's links die with their row


def list_id_header(list_name: str, domain: str) -> str:
    """RFC 2919 List-Id: a phrase and <slug.domain>."""
    slug = re.sub(r"[^a-z0-9]+", "-", list_name.lower()).strip("-") or "list"
    phrase = _NAME_UNSAFE.sub(" ", list_name).strip()
    return f"{phrase} <{slug}.{domain}>" if phrase else f"<{slug}.{domain}>"


def display_name(name: str) -> str:
    """SendGrid refuses `,` and `;` in `to.name`; quotes and angle brackets are trouble too."""
    return " ".join(_NAME_UNSAFE.sub(" ", name).split())


def used_placeholders(message: Message) -> tuple[str, ...]:
    """Only the tags the issue really contains travel as substitutions."""
    everything = message.subject + message.html + message.text
    return tuple(tag for tag in ph.ALL if tag in everything)


def build_payload(message: Message, ctx: LinkContext, recipients: Iterable[Recipient]) -> Payload:
    """The request for one batch; every recipient gets their own signed links."""
    personalizations = _personalizations(message, ctx, recipients)
    payload: dict[str, Any] = {
        "from": _address(message.from_email, message.from_name),
        "subject": message.subject,
        "content": [
            {"type": "text/plain", "value": message.text},  # text/plain must come first
            {"type": "text/html", "value": message.html},
        ],
        "personalizations": personalizations,
        "headers": {"List-Id": message.list_id_header},
        "categories": list(message.categories),
    }
    if message.reply_to:
        payload["reply_to"] = {"email": message.reply_to}
    return payload


def _personalizations(
    message: Message, ctx: LinkContext, recipients: Iterable[Recipient]
) -> list[dict[str, Any]]:
    """The hot loop (one pass per recipient): everything constant is prepared before it."""
    used = used_placeholders(message)
    links = [
        (tag, f"{ctx.base_url}/{ROUTE[purpose]}/", _maker(ctx, purpose))
        for tag, purpose in _LINKS
        if tag in used and purpose is not Purpose.UNSUBSCRIBE
    ]
    unsubscribe_tag = ph.UNSUBSCRIBE_URL in used
    unsubscribe = _maker(ctx, Purpose.UNSUBSCRIBE)
    u_prefix = f"{ctx.base_url}/u/"
    mailto = (
        f"mailto:{ctx.unsubscribe_mailto}?subject=unsubscribe%20" if ctx.unsubscribe_mailto else ""
    )
    wants_name = ph.NAME in used
    send_arg, list_arg = str(ctx.send_id), str(ctx.list_id)
    batch_args = {} if ctx.batch_seq is None else {"nl_batch": str(ctx.batch_seq)}
    out: list[dict[str, Any]] = []
    for r in recipients:
        sid, key = r.subscriber_id, r.link_key
        token = unsubscribe(sid, key)
        subs = {}
        for tag, prefix, make in links:  # a loop, not a comprehension: no frame per recipient
            subs[tag] = prefix + make(sid, key)
        if unsubscribe_tag:
            subs[ph.UNSUBSCRIBE_URL] = u_prefix + token
        name = display_name(r.name) if r.name else ""
        if wants_name:
            subs[ph.NAME] = name
        header = f"<{u_prefix}{token}>, <{mailto}{token}>" if mailto else f"<{u_prefix}{token}>"
        person: dict[str, Any] = {
            "to": [{"email": r.email, "name": name} if name else {"email": r.email}],
            "headers": {"List-Unsubscribe": header, "List-Unsubscribe-Post": ONE_CLICK},
            "custom_args": {
                "nl_send_id": send_arg,
                "nl_subscriber_id": str(sid),
                "nl_list_id": list_arg,
                **batch_args,
            },
        }
        if subs:
            person["substitutions"] = subs
        out.append(person)
    return out


def _maker(ctx: LinkContext, purpose: Purpose) -> Callable[[int, int], str]:
    return ctx.signer.maker(purpose, ctx.list_id, ctx.send_id, ctx.issued_at)


def _address(email: str, name: str) -> dict[str, str]:
    cleaned = display_name(name)
    return {"email": email, "name": cleaned} if cleaned else {"email": email}


def as_test_copy(message: Message) -> Message:
    """A `--test-to` copy says so in its subject, so nobody mistakes it for the real send."""
    return replace(message, subject=f"[TEST] {message.subject}", categories=(CATEGORY, "test"))
