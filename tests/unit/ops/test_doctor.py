"""`newsletter doctor`: what it calls ready for production, and what it refuses."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from typer.testing import CliRunner

from mailer.cli.main import app
from mailer.core.settings import Settings
from mailer.ops import liveness
from mailer.ops.doctor import (
    Level,
    check_postal_address,
    check_public_base_url,
    check_secret_key,
    check_sender,
    check_webhook_key,
    config_checks,
    judge_revision,
    judge_scopes,
)
from mailer.ops.probes import probe_database, probe_redis, probe_sendgrid
from subscribers.db import make_engine
from tests.fixtures.services import RedisServer, free_port


def public_key_b64(curve: ec.EllipticCurve) -> str:
    """A verification key in the form SendGrid shows it: base64 of the DER public key."""
    key = ec.generate_private_key(curve).public_key()
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode()


def production(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "SECRET_KEY": "k" * 48,
        "PUBLIC_BASE_URL": "https://news.example.test",
        "POSTAL_ADDRESS": "1 Test Street, 75001 Paris, France",
        "FROM_EMAIL": "editor@news.example.test",
        "SENDGRID_WEBHOOK_PUBLIC_KEY": public_key_b64(ec.SECP256R1()),
        "DATABASE_URL": "postgresql+psycopg://u:p@db.internal/newsletter",
        "REDIS_URL": "redis://redis.internal:6379/0",
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


# --- configuration checks (pure) ------------------------------------------------------------


def test_a_production_configuration_passes_every_config_check(workdir: Path) -> None:
    checks = config_checks(production())
    assert [c for c in checks if c.status is not Level.OK] == []


def test_the_generated_secret_key_fails(workdir: Path) -> None:
    cfg = production(SECRET_KEY="")
    assert cfg.secret_key_generated
    check = check_secret_key(cfg)
    assert check.status is Level.FAIL
    assert "SECRET_KEY" in check.fix
    assert check_secret_key(production(SECRET_KEY="short")).status is Level.WARN


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("http://news.example.test", Level.FAIL),
        ("https://127.0.0.1:8000", Level.FAIL),
        ("https://localhost", Level.FAIL),
        ("https://news.example.test", Level.OK),
    ],
)
def test_public_base_url_must_be_public_https(workdir: Path, url: str, status: Level) -> None:
    assert check_public_base_url(production(PUBLIC_BASE_URL=url)).status is status


def test_the_placeholder_postal_address_fails(workdir: Path) -> None:
    assert check_postal_address(Settings(SECRET_KEY="k")).status is Level.FAIL
    assert check_postal_address(production(POSTAL_ADDRESS="  ")).status is Level.FAIL
    assert check_postal_address(production()).status is Level.OK


def test_an_example_sender_is_a_warning(workdir: Path) -> None:
    assert check_sender(production(FROM_EMAIL="news@example.com")).status is Level.WARN


@pytest.mark.parametrize(
    ("key", "insecure", "detail"),
    [
        (None, False, "unset"),
        ("bm90IGEga2V5", False, "not a public key"),
        (public_key_b64(ec.SECP384R1()), False, "not P-256"),
        (public_key_b64(ec.SECP256R1()), True, "INSECURE"),
    ],
)
def test_the_webhook_key_must_be_set_parseable_and_enforced(
    workdir: Path, key: str | None, insecure: bool, detail: str
) -> None:
    cfg = production(SENDGRID_WEBHOOK_PUBLIC_KEY=key, SENDGRID_WEBHOOK_INSECURE=insecure)
    check = check_webhook_key(cfg)
    assert check.status is Level.FAIL
    assert detail in check.detail


def test_sendgrids_published_test_key_parses(workdir: Path) -> None:
    key = (
        "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpVKS3G"
        "Rqe62gw+2fNNRaINXvVpiglSI8eNEc6wEA3F+g=="
    )
    assert check_webhook_key(production(SENDGRID_WEBHOOK_PUBLIC_KEY=key)).status is Level.OK


def test_schema_revision_judgement() -> None:
    assert judge_revision(None, "0001").status is Level.FAIL
    assert "newsletter init" in judge_revision("0001", "0002").fix
    assert judge_revision("0002", "0002").status is Level.OK


def test_sendgrid_scope_judgement() -> None:
    assert judge_scopes(401, b'{"errors":[]}').status is Level.FAIL
    assert judge_scopes(200, b'{"scopes":["stats.read"]}').status is Level.FAIL
    assert judge_scopes(200, b'{"scopes":["mail.send","stats.read"]}').status is Level.OK
    assert judge_scopes(200, b"<html>").status is Level.FAIL


# --- service probes (real services) ---------------------------------------------------------


def test_a_migrated_database_is_at_head(settings: Settings) -> None:
    check = probe_database(settings)
    assert check.status is Level.OK, check


def test_an_empty_or_missing_database_fails(workdir: Path) -> None:
    missing = production(DATABASE_URL=f"sqlite:///{workdir / 'var' / 'none.db'}")
    assert "newsletter init" in probe_database(missing).fix
    assert not (workdir / "var" / "none.db").exists(), "doctor must not create the database"
    empty = workdir / "empty.db"
    empty.touch()
    assert probe_database(production(DATABASE_URL=f"sqlite:///{empty}")).detail == (
        "reachable but empty"
    )


def test_an_unreachable_postgres_fails(workdir: Path) -> None:
    url = f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/newsletter"
    check = probe_database(production(DATABASE_URL=url))
    assert check.status is Level.FAIL
    assert check.detail.startswith("unreachable")


@pytest.mark.integration
def test_redis_answers_or_fails(workdir: Path, redis: RedisServer) -> None:
    assert probe_redis(production(REDIS_URL=redis.url)).status is Level.OK
    dead = production(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    assert probe_redis(dead).status is Level.FAIL


def test_sendgrid_unset_or_unreachable_fails(workdir: Path) -> None:
    assert "outbox" in probe_sendgrid(production()).detail
    nowhere = production(
        SENDGRID_API_KEY="SG.x", SENDGRID_API_HOST=f"http://127.0.0.1:{free_port()}"
    )
    check = probe_sendgrid(nowhere)
    assert check.status is Level.FAIL
    assert "could not reach" in check.detail


@pytest.mark.integration
def test_the_local_sendgrid_server_accepts_its_key_and_refuses_others(workdir: Path) -> None:
    from tests.fixtures.fake_sendgrid import FakeSendGrid, fake_sendgrid

    # The server accepts any key unless told which one is real.
    with fake_sendgrid(api_key=FakeSendGrid.api_key) as server:
        good = production(SENDGRID_API_KEY=server.api_key, SENDGRID_API_HOST=server.url)
        assert probe_sendgrid(good).status is Level.OK, probe_sendgrid(good)
        bad = production(SENDGRID_API_KEY="SG.wrong", SENDGRID_API_HOST=server.url)
        check = probe_sendgrid(bad)
        assert check.status is Level.FAIL
        assert "refused" in check.detail


# --- the command ----------------------------------------------------------------------------


def test_doctor_fails_on_the_embedded_defaults(workdir: Path) -> None:
    result = CliRunner().invoke(app, ["doctor", "--json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False
    failing = {c["name"] for c in report["checks"] if c["status"] == "FAIL"}
    assert {"SECRET_KEY", "PUBLIC_BASE_URL", "POSTAL_ADDRESS"} <= failing
    assert {"SENDGRID_WEBHOOK_PUBLIC_KEY", "SENDGRID_API_KEY", "database"} <= failing


@pytest.mark.integration
def test_doctor_passes_a_production_setup(
    settings: Settings, redis: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.fixtures.fake_sendgrid import fake_sendgrid

    with fake_sendgrid() as server:
        env = {
            "REDIS_URL": redis.url,
            "SENDGRID_API_KEY": server.api_key,
            "SENDGRID_API_HOST": server.url,
            "SENDGRID_WEBHOOK_PUBLIC_KEY": public_key_b64(ec.SECP256R1()),
            "SECRET_KEY": "s" * 40,
            "FROM_EMAIL": "editor@news.example.test",
        }
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        engine = make_engine(settings.DATABASE_URL)
        now = datetime.now(UTC)
        liveness.beat(engine, "w1@box", liveness.WORKER, now, "sends")
        liveness.beat(engine, liveness.SCHEDULER, liveness.SCHEDULER, now)
        engine.dispose()
        result = CliRunner().invoke(app, ["doctor"])
    assert result.exit_code == 0, result.output
    assert "FAIL" not in result.output.replace("0 FAIL", "")
    # SQLite is a warning, not a failure: one machine is a valid deployment.
    expected_warnings = 0 if settings.DATABASE_URL.startswith("postgresql") else 1
    assert f"0 FAIL, {expected_warnings} WARN: ready" in result.output
