"""Production readiness checks behind `newsletter doctor`: pure judgements of the settings.

Each check returns a `Check` line (OK, WARN or FAIL, with what to do). The probes of the
services themselves (database, Redis, SendGrid) live in `mailer.ops.probes`; they hand
what they saw to the `judge_*` functions here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from mailer.core.settings import Settings

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0"}
EXAMPLE_DOMAINS = ("example.com", "example.org", "example.net")
REQUIRED_SCOPE = "mail.send"


class Level(StrEnum):
    OK = "OK"
    WARN = "WARN"
    FAIL = "FAIL"


@dataclass(frozen=True)
class Check:
    """One line of the doctor's report: what was checked, how it went, what to do."""

    name: str
    status: Level
    detail: str
    fix: str = ""

    def as_dict(self) -> dict[str, str]:
        return {**asdict(self), "status": str(self.status)}


def ok(name: str, detail: str) -> Check:
    return Check(name, Level.OK, detail)


def failed(checks: Iterable[Check]) -> bool:
    return any(check.status is Level.FAIL for check in checks)


# --- configuration (pure) -------------------------------------------------------------------


def check_secret_key(cfg: Settings) -> Check:
    if cfg.secret_key_generated:
        return Check(
            "SECRET_KEY",
            Level.FAIL,
            f"generated and kept in {cfg.VAR_DIR / 'secret_key'}: each machine would sign "
            "links with a key of its own, and losing the file breaks every link already sent",
            "set SECRET_KEY to the same long random value on every machine "
            "(python -c 'import secrets; print(secrets.token_urlsafe(48))')",
        )
    if len(cfg.SECRET_KEY) < 32:
        return Check(
            "SECRET_KEY",
            Level.WARN,
            f"only {len(cfg.SECRET_KEY)} characters long",
            "use at least 32 random characters; changing it invalidates links already sent",
        )
    return ok("SECRET_KEY", "set explicitly")


def check_public_base_url(cfg: Settings) -> Check:
    parts = urlsplit(cfg.PUBLIC_BASE_URL)
    if parts.scheme != "https":
        return Check(
            "PUBLIC_BASE_URL",
            Level.FAIL,
            f"{cfg.PUBLIC_BASE_URL} is not https: unsubscribe links and the webhook travel "
            "in clear, and mail clients distrust them",
            "serve the web app behind TLS and set PUBLIC_BASE_URL=https://your-domain",
        )
    if (parts.hostname or "") in LOCAL_HOSTS:
        return Check(
            "PUBLIC_BASE_URL",
            Level.FAIL,
            f"{cfg.PUBLIC_BASE_URL} points at this machine; readers cannot reach it",
            "set PUBLIC_BASE_URL to the public address of `newsletter serve`",
        )
    return ok("PUBLIC_BASE_URL", cfg.PUBLIC_BASE_URL)


def check_postal_address(cfg: Settings) -> Check:
    if cfg.postal_address_is_placeholder:
        return Check(
            "POSTAL_ADDRESS",
            Level.FAIL,
            "still the placeholder; CAN-SPAM requires a real physical address in every footer",
            "set POSTAL_ADDRESS to your postal address",
        )
    return ok("POSTAL_ADDRESS", cfg.POSTAL_ADDRESS)


def check_sender(cfg: Settings) -> Check:
    domain = cfg.FROM_EMAIL.rpartition("@")[2].lower()
    if domain in EXAMPLE_DOMAINS:
        return Check(
            "FROM_EMAIL",
            Level.WARN,
            f"{cfg.FROM_EMAIL} is an example address; SendGrid rejects unverified senders",
            "set FROM_EMAIL to a sender verified in SendGrid (domain authentication)",
        )
    return ok("FROM_EMAIL", f"{cfg.FROM_NAME} <{cfg.FROM_EMAIL}>")


def check_webhook_key(cfg: Settings) -> Check:
    from sendgrid.helpers.eventwebhook import EventWebhook

    name = "SENDGRID_WEBHOOK_PUBLIC_KEY"
    if cfg.SENDGRID_WEBHOOK_INSECURE:
        return Check(
            name,
            Level.FAIL,
            "SENDGRID_WEBHOOK_INSECURE is on: anyone can post fake bounces and unsubscribes",
            "turn on the Signed Event Webhook in SendGrid, set its key, unset the insecure flag",
        )
    if not cfg.SENDGRID_WEBHOOK_PUBLIC_KEY:
        return Check(
            name,
            Level.FAIL,
            "unset: webhook posts are refused, so bounces and spam reports never suppress anyone",
            "enable the Signed Event Webhook (Settings > Mail Settings) and copy its key here",
        )
    try:
        key = EventWebhook().convert_public_key_to_ecdsa(cfg.SENDGRID_WEBHOOK_PUBLIC_KEY)
    except (ValueError, TypeError) as exc:
        return Check(
            name,
            Level.FAIL,
            f"not a public key: {exc}",
            "copy the verification key exactly as SendGrid shows it (base64)",
        )
    curve = getattr(getattr(key, "curve", None), "name", "?")
    if curve != "secp256r1":
        return Check(name, Level.FAIL, f"an EC key on {curve}, not P-256", "copy SendGrid's key")
    return ok(name, "ECDSA P-256 key parsed")


def check_database_url(cfg: Settings) -> Check:
    if cfg.DATABASE_URL.startswith("sqlite"):
        return Check(
            "DATABASE_URL",
            Level.WARN,
            "SQLite: fine on one machine, but workers on other machines cannot share it",
            "use PostgreSQL (postgresql+psycopg://user:password@host/db) to scale out",
        )
    return ok("DATABASE_URL", "PostgreSQL" if "postgres" in cfg.DATABASE_URL else "set")


def check_redis_configured(cfg: Settings) -> Check:
    if cfg.REDIS_URL is None:
        return Check(
            "REDIS_URL",
            Level.WARN,
            "unset: tasks run inside the process that starts them, with no separate workers",
            "set REDIS_URL and run `newsletter worker` processes and `newsletter scheduler`",
        )
    return ok("REDIS_URL", "set")


CONFIG_CHECKS: tuple[Callable[[Settings], Check], ...] = (
    check_secret_key,
    check_public_base_url,
    check_postal_address,
    check_sender,
    check_webhook_key,
    check_database_url,
    check_redis_configured,
)


def config_checks(cfg: Settings) -> list[Check]:
    return [check(cfg) for check in CONFIG_CHECKS]


def judge_revision(current: str | None, head: str | None) -> Check:
    if current is None:
        return Check("database", Level.FAIL, "reachable but empty", "run `newsletter init`")
    if current != head:
        return Check(
            "database",
            Level.FAIL,
            f"schema at {current}, this code needs {head}",
            "run `newsletter init` (once, before starting the new version's processes)",
        )
    return ok("database", f"reachable, schema at head ({head})")


def judge_scopes(status: int, body: bytes) -> Check:
    """Read SendGrid's answer to GET /v3/scopes."""
    if status in (401, 403):
        return Check(
            "SENDGRID_API_KEY",
            Level.FAIL,
            f"SendGrid refused the key (HTTP {status})",
            "create an API key with Mail Send permission and set SENDGRID_API_KEY",
        )
    if status != 200:
        return Check("SENDGRID_API_KEY", Level.FAIL, f"SendGrid answered HTTP {status}", "")
    try:
        scopes = json.loads(body or b"{}").get("scopes", [])
    except (ValueError, AttributeError):
        return Check("SENDGRID_API_KEY", Level.FAIL, "SendGrid's answer was not JSON", "")
    if REQUIRED_SCOPE not in scopes:
        return Check(
            "SENDGRID_API_KEY",
            Level.FAIL,
            f"the key answers but lacks the {REQUIRED_SCOPE} permission",
            "give the key Mail Send (full access) in SendGrid",
        )
    return ok("SENDGRID_API_KEY", f"accepted, {len(scopes)} scopes including {REQUIRED_SCOPE}")
