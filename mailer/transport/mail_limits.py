"""The mail/send limits SendGrid enforces that its OpenAPI schema cannot state (facts.md §1, §4).

Runs after the schema has held, so the types it guarantees (lists of objects with string
`email`, string `substitutions` values, ...) are relied upon. One pass over the
personalizations, a few milliseconds for 1000 of them.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson

MAX_RECIPIENTS = 1000
MAX_SUBSTITUTION_BYTES = 10_000
MAX_CUSTOM_ARGS_BYTES = 10_000
MAX_MESSAGE_BYTES = 30 * 1024 * 1024
MAX_SCHEDULE_AHEAD_SECONDS = 72 * 3600
RESERVED_HEADERS = frozenset(
    h.lower()
    for h in (
        "x-sg-id",
        "x-sg-eid",
        "received",
        "dkim-signature",
        "Content-Type",
        "Content-Transfer-Encoding",
        "To",
        "From",
        "Subject",
        "Reply-To",
        "CC",
        "BCC",
    )
)
# text/plain first, then AMP, then HTML (facts.md §1.3); other types may follow.
_CONTENT_RANK = {"text/plain": 0, "text/x-amp-html": 1, "text/html": 2}
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@dataclass(frozen=True, slots=True)
class MailError:
    """One entry of SendGrid's `errors` array."""

    field: str | None
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message

    def as_json(self) -> dict[str, Any]:
        return {"message": self.message, "field": self.field, "help": None}


def _utf8_len(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8"))


def _pairs_bytes(mapping: dict[str, Any]) -> int:
    # Joined first: two C-level loops and one length, run for every personalization.
    return _utf8_len("".join(mapping)) + _utf8_len("".join(map(str, mapping.values())))


def limit_errors(payload: dict[str, Any], body_size: int | None = None) -> list[MailError]:
    """Every limit the request breaks; empty when it keeps them all."""
    errors: list[MailError] = []
    errors.extend(_sender_errors(payload))
    errors.extend(_recipient_errors(payload["personalizations"]))
    errors.extend(_personalization_errors(payload))
    errors.extend(_subject_and_content_errors(payload))
    errors.extend(_envelope_errors(payload, body_size))
    return errors


def _address_error(
    field: str, who: dict[str, Any], *, ascii_only: bool = False
) -> MailError | None:
    email = who["email"]
    if not _EMAIL.fullmatch(email) or (ascii_only and not email.isascii()):
        return MailError(f"{field}.email", "Does not contain a valid address.")
    name = who.get("name")
    if not ascii_only and isinstance(name, str) and (";" in name or "," in name):
        return MailError(f"{field}.name", "The name may not contain ';' or ','.")
    return None


def _sender_errors(payload: dict[str, Any]) -> Iterator[MailError]:
    candidates = [("from", payload["from"], True)]
    if "reply_to" in payload:
        candidates.append(("reply_to", payload["reply_to"], False))
    for i, who in enumerate(payload.get("reply_to_list", [])):
        candidates.append((f"reply_to_list.{i}", who, False))
    for field, who, ascii_only in candidates:
        error = _address_error(field, who, ascii_only=ascii_only)
        if error:
            yield error
    if "reply_to" in payload and "reply_to_list" in payload:
        yield MailError("reply_to_list", "reply_to and reply_to_list cannot both be set.")


def _recipient_errors(personalizations: list[dict[str, Any]]) -> Iterator[MailError]:
    if not personalizations:
        yield MailError(
            "personalizations",
            "The personalizations field is required and must have at least one personalization.",
        )
    seen: set[str] = set()
    total = 0
    for i, person in enumerate(personalizations):
        if not person["to"]:
            yield MailError(f"personalizations.{i}.to", "The to array must not be empty.")
        for kind in ("to", "cc", "bcc"):
            for j, who in enumerate(person.get(kind, ())):
                total += 1
                field = f"personalizations.{i}.{kind}"
                error = _address_error(f"{field}.{j}", who)
                if error:
                    yield error
                key = who["email"].lower()
                if key in seen:
                    yield _duplicate(who["email"], field)
                seen.add(key)
    if total > MAX_RECIPIENTS:
        yield MailError(
            "personalizations",
            f"There is a limit of {MAX_RECIPIENTS} total recipients (to + cc + bcc) per request; "
            f"this request has {total}.",
        )


def _duplicate(email: str, field: str) -> MailError:
    return MailError(
        field,
        "Each email address in the personalization block should be unique between to, cc, and "
        f"bcc. We found the first duplicate instance of [{email}] in the {field} field.",
    )


def _personalization_errors(payload: dict[str, Any]) -> Iterator[MailError]:
    yield from _header_errors("headers", payload.get("headers", {}))
    message_args: dict[str, Any] = payload.get("custom_args", {})
    dynamic = str(payload.get("template_id", "")).startswith("d-")
    for i, person in enumerate(payload["personalizations"]):
        where = f"personalizations.{i}"
        yield from _header_errors(f"{where}.headers", person.get("headers", {}))
        substitutions = person.get("substitutions")
        if substitutions:
            if _pairs_bytes(substitutions) > MAX_SUBSTITUTION_BYTES:
                yield MailError(
                    f"{where}.substitutions",
                    f"The substitutions may not exceed {MAX_SUBSTITUTION_BYTES} bytes "
                    "per personalization.",
                )
            if dynamic:
                yield MailError(
                    f"{where}.substitutions",
                    "Substitutions may not be used with a dynamic template (template_id d-...).",
                )
        args = person.get("custom_args", {})
        yield from _custom_args_errors(f"{where}.custom_args", args, message_args)


def _header_errors(field: str, headers: dict[str, Any]) -> Iterator[MailError]:
    for name, value in headers.items():
        if name.lower() in RESERVED_HEADERS:
            yield MailError(f"{field}.{name}", f"The header {name} is reserved and cannot be set.")
        elif not isinstance(value, str):
            yield MailError(f"{field}.{name}", "Header values must be strings.")


def _custom_args_errors(
    field: str, args: dict[str, Any], message_args: dict[str, Any]
) -> Iterator[MailError]:
    for key, value in args.items():
        if not isinstance(value, str):
            yield MailError(
                f"{field}.{key}",
                f"Invalid type. Expected: string, given: {type(value).__name__}. "
                "custom_args values must be strings.",
            )
    if _pairs_bytes({**message_args, **args}) >= MAX_CUSTOM_ARGS_BYTES:
        yield MailError(
            field, f"The custom_args must total less than {MAX_CUSTOM_ARGS_BYTES} bytes."
        )


def _subject_and_content_errors(payload: dict[str, Any]) -> Iterator[MailError]:
    templated = "template_id" in payload
    every_has_subject = all("subject" in p for p in payload["personalizations"])
    if "subject" not in payload and not templated and not every_has_subject:
        yield MailError(
            "subject",
            "The subject is required. You can get around this requirement if you use a template "
            "with a subject defined or if every personalization has a subject defined.",
        )
    content = payload.get("content")
    if not content:
        if not templated:
            yield MailError(
                "content",
                "Unless a valid template_id is provided, the content parameter is required. "
                "There must be at least one defined content block.",
            )
        return
    types = [part["type"].lower() for part in content]
    ranks = [_CONTENT_RANK.get(t, 3) for t in types]
    if ranks != sorted(ranks):
        yield MailError(
            "content",
            "The content types must be in this order: text/plain, then text/x-amp-html, "
            "then text/html, then any others.",
        )
    if len(set(types)) != len(types):
        yield MailError("content", "Each content type may be provided only once.")


def _envelope_errors(payload: dict[str, Any], body_size: int | None) -> Iterator[MailError]:
    latest = time.time() + MAX_SCHEDULE_AHEAD_SECONDS
    stamps = [("send_at", payload.get("send_at"))] + [
        (f"personalizations.{i}.send_at", p.get("send_at"))
        for i, p in enumerate(payload["personalizations"])
    ]
    for field, stamp in stamps:
        if stamp is not None and stamp > latest:
            yield MailError(field, "A send cannot be scheduled more than 72 hours in advance.")
    size = body_size if body_size is not None else len(orjson.dumps(payload))
    if size >= MAX_MESSAGE_BYTES:
        yield MailError(None, "The total size of the message must be less than 30MB.")
