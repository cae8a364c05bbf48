"""The outbox: each personalization of a payload becomes one RFC 5322 `.eml` file on disk.

Used when no SendGrid key is set (development, `newsletter demo`). It refuses what SendGrid
would refuse (same validation, as a PermanentFailure with status 400), then does what SendGrid
does with an accepted request: per personalization, substitutions applied literally to the
subject, bodies and header values, personalization headers and custom_args merged over the
message-level ones.
"""

from __future__ import annotations

import functools
import json
import os
import re
import uuid
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from pathlib import Path
from typing import Any

from mailer.transport.base import Payload, PermanentFailure, Receipt

CUSTOM_ARGS_HEADER = "X-Newsletter-Custom-Args"
MESSAGE_ID_HEADER = "X-Newsletter-Message-Id"
CATEGORIES_HEADER = "X-Newsletter-Categories"


class OutboxTransport:
    """Writes `<message-id>-<index>.eml` files into one directory, atomically."""

    def __init__(self, directory: Path, validate: bool = True) -> None:
        self.directory = Path(directory)
        self.validate = validate

    def deliver(self, payload: Payload) -> Receipt:
        if self.validate:
            # Loaded here: the schema validator (jsonschema) is ~10 MB a worker need not carry.
            from mailer.transport.mail_schema import mail_send_errors

            errors = mail_send_errors(payload)
            if errors:
                raise PermanentFailure("; ".join(str(e) for e in errors), 400)
        self.directory.mkdir(parents=True, exist_ok=True)
        message_id = f"outbox-{uuid.uuid4().hex}"
        for index, person in enumerate(payload["personalizations"]):
            message = build_message(payload, person, message_id)
            _write_atomically(self.directory / f"{message_id}-{index:04d}.eml", message.as_bytes())
        return Receipt(202, message_id)


def build_message(payload: Payload, person: dict[str, Any], message_id: str) -> EmailMessage:
    """The email one personalization stands for, as its recipient would receive it."""
    fill = _substituter(person.get("substitutions") or {})
    message = EmailMessage()
    message["From"] = _address(person.get("from") or payload["from"])
    message["To"] = ", ".join(_address(who) for who in person["to"])
    if person.get("cc"):
        message["Cc"] = ", ".join(_address(who) for who in person["cc"])
    reply_to = _reply_to(payload)
    if reply_to:
        message["Reply-To"] = reply_to
    message["Subject"] = fill(person.get("subject") or payload.get("subject", ""))
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain="outbox.invalid")
    for name, value in {**payload.get("headers", {}), **person.get("headers", {})}.items():
        message[name] = fill(value)
    message[MESSAGE_ID_HEADER] = message_id
    custom_args = {**payload.get("custom_args", {}), **person.get("custom_args", {})}
    if custom_args:
        message[CUSTOM_ARGS_HEADER] = json.dumps(custom_args, sort_keys=True)
    if payload.get("categories"):
        message[CATEGORIES_HEADER] = ", ".join(payload["categories"])
    _set_bodies(message, payload.get("content") or [], fill)
    return message


def _set_bodies(
    message: EmailMessage, content: list[dict[str, str]], fill: Callable[[str], str]
) -> None:
    """text/plain first, then the alternatives in the order SendGrid received them."""
    for position, part in enumerate(content):
        maintype, _, subtype = part["type"].partition("/")
        if maintype != "text":
            continue
        if position == 0:
            message.set_content(fill(part["value"]), subtype=subtype or "plain")
        else:
            message.add_alternative(fill(part["value"]), subtype=subtype or "html")


def _address(who: dict[str, str]) -> str:
    return formataddr((who.get("name", ""), who["email"]))


def _reply_to(payload: Payload) -> str | None:
    if payload.get("reply_to"):
        return _address(payload["reply_to"])
    if payload.get("reply_to_list"):
        return ", ".join(_address(who) for who in payload["reply_to_list"])
    return None


def _substituter(substitutions: dict[str, str]) -> Callable[[str], str]:
    """Replace every key literally, in one pass, so a value is never substituted again."""
    if not substitutions:
        return lambda text: text
    pattern = _pattern(tuple(sorted(substitutions, key=len, reverse=True)))
    return lambda text: pattern.sub(lambda m: substitutions[m.group(0)], text)


@functools.lru_cache(maxsize=64)
def _pattern(keys: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(key) for key in keys))


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)
