"""Service probes of `newsletter doctor`: database, Redis and SendGrid, with short timeouts.

Every failure becomes a FAIL line with what to do, never an exception: an operator runs the
doctor precisely when something is broken.
"""

from __future__ import annotations

import urllib.error
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import redis
from alembic.script import ScriptDirectory
from python_http_client.exceptions import HTTPError
from sendgrid import SendGridAPIClient
from sqlalchemy import text
from sqlalchemy.engine import make_url

from mailer.core.settings import Settings
from mailer.ops.doctor import Check, Level, config_checks, judge_revision, judge_scopes, ok
from mailer.ops.liveness import liveness_checks
from mailer.ops.migrate import alembic_config, current_revision
from subscribers.db import make_engine

PROBE_TIMEOUT_SECONDS = 5.0


def probe_database(cfg: Settings) -> Check:
    missing = _missing_sqlite_file(cfg.DATABASE_URL)
    if missing:
        return Check(
            "database", Level.FAIL, f"no database file at {missing}", "run `newsletter init`"
        )
    try:
        engine = make_engine(cfg.DATABASE_URL)
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            current = current_revision(engine)
        finally:
            engine.dispose()
    except Exception as exc:  # any driver error means the same thing to an operator
        return Check("database", Level.FAIL, f"unreachable: {_first_line(exc)}", _db_fix(cfg))
    head = ScriptDirectory.from_config(alembic_config(cfg.DATABASE_URL)).get_current_head()
    return judge_revision(current, head)


def probe_redis(cfg: Settings) -> Check:
    if cfg.REDIS_URL is None:
        return Check("redis", Level.OK, "not configured (tasks run in-process)")
    client = redis.Redis.from_url(
        cfg.REDIS_URL,
        socket_timeout=PROBE_TIMEOUT_SECONDS,
        socket_connect_timeout=PROBE_TIMEOUT_SECONDS,
    )
    try:
        client.ping()
    except redis.RedisError as exc:
        return Check(
            "redis",
            Level.FAIL,
            f"unreachable: {_first_line(exc)}",
            "start Redis or fix REDIS_URL",
        )
    finally:
        client.close()
    return ok("redis", "answers PING")


def probe_sendgrid(cfg: Settings) -> Check:
    if cfg.SENDGRID_API_KEY is None:
        return Check(
            "SENDGRID_API_KEY",
            Level.FAIL,
            "unset: mail goes to var/outbox/ as .eml files, nobody receives it",
            "set SENDGRID_API_KEY (and SENDGRID_API_HOST only for a non-default endpoint)",
        )
    client = SendGridAPIClient(api_key=cfg.SENDGRID_API_KEY, host=cfg.SENDGRID_API_HOST)
    try:
        response = client.client.scopes.get(timeout=PROBE_TIMEOUT_SECONDS)
    except HTTPError as exc:
        return judge_scopes(int(exc.status_code), exc.body or b"")
    except (urllib.error.URLError, OSError) as exc:
        return Check(
            "SENDGRID_API_KEY",
            Level.FAIL,
            f"could not reach {cfg.SENDGRID_API_HOST}: {_first_line(exc)}",
            "check outbound HTTPS from this machine and SENDGRID_API_HOST",
        )
    return judge_scopes(int(response.status_code), response.body or b"")


SERVICE_PROBES: tuple[Callable[[Settings], Check], ...] = (
    probe_database,
    probe_redis,
    probe_sendgrid,
)


def probe_liveness(cfg: Settings) -> list[Check]:
    """Scheduler and workers from their heartbeats (in the database)."""
    unknown = [
        Check(name, Level.WARN, "cannot tell: the database is not available", "see `database`")
        for name in ("scheduler", "workers")
    ]
    if _missing_sqlite_file(cfg.DATABASE_URL):
        return unknown
    try:
        engine = make_engine(cfg.DATABASE_URL)
        try:
            return liveness_checks(engine, cfg, datetime.now(UTC))
        finally:
            engine.dispose()
    except Exception:  # no database, or not migrated yet: the database line says which
        return unknown


def run_all(cfg: Settings) -> list[Check]:
    """Every check, configuration first; the probes use short timeouts."""
    return config_checks(cfg) + [probe(cfg) for probe in SERVICE_PROBES] + probe_liveness(cfg)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _missing_sqlite_file(url: str) -> str | None:
    """Doctor only looks: connecting would create an empty SQLite file."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return None if Path(str(parsed.database)).exists() else str(parsed.database)


def _db_fix(cfg: Settings) -> str:
    if cfg.DATABASE_URL.startswith("sqlite"):
        return "check that the directory of DATABASE_URL exists and is writable"
    return "start PostgreSQL, check DATABASE_URL's host, user and password"
