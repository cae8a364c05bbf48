"""Test helpers: a local P-256 key pair that signs like SendGrid, and event factories."""

from __future__ import annotations

import base64
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

SIGNATURE = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP = "X-Twilio-Email-Event-Webhook-Timestamp"
_ids = itertools.count(1)


@dataclass
class Signer:
    """Signs timestamp + raw body with ECDSA P-256 / SHA-256, as SendGrid does."""

    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )

    @property
    def public_key(self) -> str:
        der = self.key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return base64.b64encode(der).decode()

    def sign(self, body: bytes, timestamp: str) -> str:
        signature = self.key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        return base64.b64encode(signature).decode()

    def headers(self, body: bytes, timestamp: int | None = None) -> dict[str, str]:
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        return {
            SIGNATURE: self.sign(body, stamp),
            TIMESTAMP: stamp,
            "Content-Type": "application/json",
        }


def event(kind: str, email: str, **fields: Any) -> dict[str, Any]:
    """One SendGrid event with a fresh sg_event_id unless given."""
    value: dict[str, Any] = {
        "email": email,
        "event": kind,
        "timestamp": int(time.time()),
        "sg_event_id": f"ev-{next(_ids)}-{time.time_ns()}",
        "sg_message_id": "msg0001.filterdrecv-1",
        "smtp-id": "<msg0001@ismtpd.sendgrid.net>",
    }
    value.update(fields)
    return value


def tagged(
    kind: str, email: str, send_id: int, subscriber_id: int, list_id: int, **fields: Any
) -> dict[str, Any]:
    """An event carrying the custom_args every send puts in (flattened, as strings)."""
    args = {
        "nl_send_id": str(send_id),
        "nl_subscriber_id": str(subscriber_id),
        "nl_list_id": str(list_id),
    }
    return event(kind, email, **{**args, **fields})


def body_of(events: list[dict[str, Any]]) -> bytes:
    return (json.dumps(events, separators=(",", ":")) + "\r\n").encode()
