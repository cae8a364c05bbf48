"""The one typed settings object, read from the environment and `.env` at the edges."""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_POSTAL_ADDRESS = "Postal address not configured, set POSTAL_ADDRESS"


class Settings(BaseSettings):
    """Configuration as listed in interface.md; extra knobs have safe defaults."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=True)

    DATABASE_URL: str = "sqlite:///var/newsletter.db"
    REDIS_URL: str | None = None
    SENDGRID_API_KEY: str | None = None
    SENDGRID_API_HOST: str = "https://api.sendgrid.com"
    SENDGRID_TIMEOUT_SECONDS: float = 30.0
    SENDGRID_WEBHOOK_PUBLIC_KEY: str | None = None
    SENDGRID_WEBHOOK_INSECURE: bool = False
    WEBHOOK_MAX_AGE_SECONDS: int = 600
    WEBHOOK_MAX_BODY_BYTES: int = 5 * 1024 * 1024
    SECRET_KEY: str = ""
    PUBLIC_BASE_URL: str = "http://127.0.0.1:8000"
    FROM_EMAIL: str = "newsletter@example.com"
    FROM_NAME: str = "The Newsletter"
    REPLY_TO: str | None = None
    POSTAL_ADDRESS: str = PLACEHOLDER_POSTAL_ADDRESS
    NEWSLETTER_TIMEZONE: str = "UTC"
    SEND_RATE_PER_SECOND: float | None = None
    # Sending pipeline knobs (defaults suit production; tests shrink them).
    SEND_BATCH_SIZE: int = Field(default=1000, ge=1, le=1000)
    SEND_PARALLELISM: int = Field(default=4, ge=1)  # batch runners queued per send
    SEND_MAX_ATTEMPTS: int = Field(default=30, ge=1)  # 5xx/timeouts before a batch fails
    SEND_RETRY_BASE_SECONDS: float = Field(default=2.0, gt=0)  # backoff: base x 2^attempt ...
    SEND_RETRY_MAX_SECONDS: float = Field(default=300.0, gt=0)  # ... with jitter, capped here
    BATCH_LEASE_SECONDS: float | None = None  # default: 2 x SENDGRID_TIMEOUT_SECONDS + 30
    SCHEDULER_INTERVAL_SECONDS: float = Field(default=15.0, gt=0)
    HEARTBEAT_SECONDS: float = Field(default=10.0, gt=0)  # workers beat; stale after 3 x this
    # An uncertain batch with no event of its own while a later request's events arrived this
    # long ago was not accepted: it is sent again. 0: never automatically (the editor decides).
    UNCERTAIN_SETTLE_SECONDS: float = Field(default=900.0, ge=0)
    LIST_UNSUBSCRIBE_MAILTO: str | None = None
    LIST_ID_DOMAIN: str = "newsletter.local"
    # PostgreSQL connections per process (see mailer/core/database.py for the sizing rule).
    DATABASE_POOL_SIZE: int = Field(default=5, ge=1)
    DATABASE_MAX_OVERFLOW: int = Field(default=5, ge=0)
    DATABASE_PGBOUNCER: bool = False  # behind PgBouncer's transaction pooling: no prepared plans

    # Branding: templates read these, code never hard-codes them.
    BRAND_NAME: str = "The Newsletter"
    BRAND_TAGLINE: str = ""
    BRAND_COLOR: str = "#1f4fd1"
    BRAND_TEXT_COLOR: str = "#1d1d1f"
    BRAND_BACKGROUND: str = "#f3f4f6"
    BRAND_LOGO_URL: str | None = None
    FOOTER_TEXT: str = "You receive this because you subscribed to our newsletter."
    NEWSLETTER_LANG: str = "en"  # the email's lang attribute; an issue's `lang:` overrides it

    # Web pages: sign-up and forward-to-a-friend abuse limits (per client IP, per hour).
    DEFAULT_LIST: str | None = None  # sign-ups without a `list` field join it (else the first)
    SIGNUP_COOLDOWN_SECONDS: int = 600  # no second confirmation mail to an address before this
    SIGNUP_IP_LIMIT_PER_HOUR: int = 30
    FORWARD_IP_LIMIT_PER_HOUR: int = 50  # friends mailed from one IP
    # Slow clients (`newsletter serve`): seconds to send a request's headers, and its body.
    HTTP_HEADER_TIMEOUT_SECONDS: float = Field(default=10.0, gt=0, le=300)
    HTTP_BODY_TIMEOUT_SECONDS: float = Field(default=30.0, gt=0, le=3600)
    # Addresses of the reverse proxies whose X-Forwarded-For is believed (comma-separated, or
    # "*"); empty: none, not even 127.0.0.1, so a local client cannot pose as another.
    FORWARDED_ALLOW_IPS: str = ""
    # A queued single message still unsent after this many seconds is queued again (lost task).
    OUTBOX_REDISPATCH_SECONDS: int = Field(default=600, ge=30)

    # Bounce policy.
    SOFT_BOUNCE_LIMIT: int = 3
    SOFT_BOUNCE_WINDOW_DAYS: int = 30

    # Send report: warn above these rates (bounces per sent, complaints per delivered).
    BOUNCE_RATE_WARNING: float = 0.02
    COMPLAINT_RATE_WARNING: float = 0.001
    # Operator pages (/reports/...) need this token (?token= or X-Admin-Token); unset: refused.
    ADMIN_TOKEN: str | None = None

    # Workspace sign-in: session lifetimes and sign-in attempts allowed per 15 minutes.
    SESSION_IDLE_MINUTES: int = Field(default=120, ge=1)
    SESSION_MAX_HOURS: int = Field(default=12, ge=1)
    SIGNIN_LIMIT_PER_ACCOUNT: int = Field(default=10, ge=1)
    SIGNIN_LIMIT_PER_IP: int = Field(default=50, ge=1)
    # JSON API: largest request body accepted (413 above it).
    API_MAX_BODY_BYTES: int = Field(default=1024 * 1024, ge=1024)
    # Identical segment counts asked within this many seconds share one computation (0: off).
    SEGMENT_COUNT_CACHE_SECONDS: float = Field(default=5.0, ge=0)
    # A count older than that but younger than this is answered at once and refreshed in the
    # background (one refresh at a time); 0 or less than the above: always recomputed.
    SEGMENT_COUNT_STALE_SECONDS: float = Field(default=60.0, ge=0)

    # Logs: `text` for people at a terminal, `json` (one object per line) for log collectors.
    LOG_FORMAT: Literal["text", "json"] = "text"
    LOG_LEVEL: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    # Where the embedded defaults keep their files (database, outbox, secret key).
    VAR_DIR: Path = Field(default=Path("var"))

    @field_validator("PUBLIC_BASE_URL")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("PUBLIC_BASE_URL must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("NEWSLETTER_LANG")
    @classmethod
    def _language_tag(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*", value):
            raise ValueError(
                f"NEWSLETTER_LANG must be a language tag such as en or fr-CA: {value!r}"
            )
        return value

    @field_validator("SENDGRID_API_HOST")
    @classmethod
    def _strip_host_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("NEWSLETTER_TIMEZONE")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r}") from exc
        return value

    @field_validator("LOG_FORMAT", "LOG_LEVEL", mode="before")
    @classmethod
    def _case_insensitive_choice(cls, value: object, info: ValidationInfo) -> object:
        if not isinstance(value, str):
            return value
        return value.lower() if info.field_name == "LOG_FORMAT" else value.upper()

    @field_validator("SEND_RATE_PER_SECOND")
    @classmethod
    def _positive_rate(cls, value: float | None) -> float | None:
        if value is not None and value <= 0:
            raise ValueError("SEND_RATE_PER_SECOND must be positive")
        return value

    @field_validator(
        "REDIS_URL",
        "SENDGRID_API_KEY",
        "SENDGRID_WEBHOOK_PUBLIC_KEY",
        "REPLY_TO",
        "SEND_RATE_PER_SECOND",
        "BATCH_LEASE_SECONDS",
        "LIST_UNSUBSCRIBE_MAILTO",
        "BRAND_LOGO_URL",
        "DEFAULT_LIST",
        "ADMIN_TOKEN",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @model_validator(mode="after")
    def _secret_key(self) -> Settings:
        if not self.SECRET_KEY:
            self.SECRET_KEY = _generated_secret_key(self.VAR_DIR)
            self.secret_key_generated = True
        return self

    secret_key_generated: bool = False

    @property
    def timezone(self) -> ZoneInfo:
        return ZoneInfo(self.NEWSLETTER_TIMEZONE)

    @property
    def batch_lease_seconds(self) -> float:
        """Longer than any request can take, so only a dead worker's claim goes stale."""
        if self.BATCH_LEASE_SECONDS is not None:
            return self.BATCH_LEASE_SECONDS
        return 2 * self.SENDGRID_TIMEOUT_SECONDS + 30

    @property
    def outbox_dir(self) -> Path:
        return self.VAR_DIR / "outbox"

    @property
    def postal_address_is_placeholder(self) -> bool:
        return self.POSTAL_ADDRESS.strip() in ("", PLACEHOLDER_POSTAL_ADDRESS)


def _generated_secret_key(var_dir: Path) -> str:
    """Create the key once and keep it, so links in mail already sent keep working."""
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(key)
    tmp.chmod(0o600)
    try:
        # link() fails if another process created the key first; theirs wins.
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return path.read_text().strip()


def load_settings(**overrides: object) -> Settings:
    """Build settings at an edge (CLI, web, worker); pure code receives them as an argument."""
    return Settings(**overrides)  # type: ignore[arg-type]
