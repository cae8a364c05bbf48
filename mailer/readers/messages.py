"""Single-message SendGrid payloads: a forwarded issue for one friend, a sign-up confirmation.

Pure builders: they take plain values and return the v3 `mail/send` JSON every transport takes.
Neither carries the forwarder's or anyone's subscriber id in a way that the event policy could
hold against a subscriber: a friend's bounce must never suppress the reader who forwarded.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from mailer.readers.names import visible_name
from mailer.transport.base import Payload


@dataclass(frozen=True, slots=True)
class Sender:
    """Who the message comes from, as configured."""

    email: str
    name: str
    reply_to: str | None = None


def _display_name(name: str) -> str:
    # SendGrid refuses ';' and ',' in names; a newline would be worse.
    return " ".join(name.replace(";", " ").replace(",", " ").split())[:200]


def _payload(
    sender: Sender, to: str, subject: str, text: str, html_body: str, args: dict[str, str]
) -> Payload:
    payload: Payload = {
        "personalizations": [{"to": [{"email": to}], "custom_args": args}],
        "from": {"email": sender.email, "name": _display_name(sender.name)},
        "subject": " ".join(subject.split()),
        "content": [
            {"type": "text/plain", "value": text},
            {"type": "text/html", "value": html_body},
        ],
        "categories": [args["nl_kind"]],
    }
    if sender.reply_to:
        payload["reply_to"] = {"email": sender.reply_to}
    return payload


def forward_payload(
    sender: Sender,
    friend: str,
    forwarder: str,
    subject: str,
    text: str,
    html_body: str,
    send_id: int,
) -> Payload:
    """The friend's copy; From is the newsletter, and the name says who forwarded it.

    The reader's part is cleaned and shortened first, so " via <brand>" always shows."""
    args = {"nl_kind": "forward", "nl_forward_send_id": str(send_id)}
    who = visible_name(forwarder) or "A reader"
    via = Sender(sender.email, f"{who} via {sender.name}", sender.reply_to)
    return _payload(via, friend, f"Fwd: {subject}", text, html_body, args)


def confirmation_payload(
    sender: Sender, to: str, brand_name: str, confirm_url: str, subscriber_id: int
) -> Payload:
    """The double opt-in message: one link, nothing else."""
    subject = f"Please confirm your subscription to {brand_name}"
    text = (
        f"Hello,\n\nSomeone, hopefully you, asked to subscribe this address to {brand_name}.\n"
        f"To confirm, open this link within 7 days:\n\n{confirm_url}\n\n"
        "If it was not you, ignore this message: you will not hear from us again.\n"
    )
    brand, url = html.escape(brand_name), html.escape(confirm_url, quote=True)
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(subject)}</title></head>"
        '<body style="margin:0;padding:24px;background:#f3f4f6;font-family:Arial,sans-serif;'
        'color:#1d1d1f;font-size:16px;line-height:1.5">'
        '<div style="max-width:520px;margin:0 auto;background:#ffffff;padding:24px;'
        'border-radius:8px">'
        f"<p>Someone, hopefully you, asked to subscribe this address to {brand}.</p>"
        f'<p><a href="{url}" style="display:inline-block;padding:12px 20px;background:#1f4fd1;'
        'color:#ffffff;text-decoration:none;border-radius:6px">Confirm my subscription</a></p>'
        '<p style="font-size:14px">Or paste this link into your browser: '
        f"{url}</p>"
        '<p style="font-size:14px">The link works for 7 days. If it was not you, ignore '
        "this message: you will not hear from us again.</p></div></body></html>"
    )
    args = {"nl_kind": "confirm", "nl_subscriber_id": str(subscriber_id)}
    return _payload(sender, to, subject, text, body, args)
