"""`newsletter suppressions sync` against the project's local SendGrid server."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from mailer.cli.main import app
from mailer.core.settings import Settings
from subscribers.models import Status, Subscriber
from tests.fixtures.fake_sendgrid import FakeSendGrid, fake_sendgrid
from tests.unit.events.conftest import make_send

pytestmark = pytest.mark.integration


@pytest.fixture
def sendgrid(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSendGrid]:
    with fake_sendgrid() as server:
        monkeypatch.setenv("SENDGRID_API_KEY", server.api_key)
        monkeypatch.setenv("SENDGRID_API_HOST", server.url)
        yield server


def _statuses(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        return {
            row[0]: row[1] for row in conn.execute(select(Subscriber.email_norm, Subscriber.status))
        }


def test_sync_applies_all_three_lists_and_repeats_harmlessly(
    engine: Engine, sendgrid: FakeSendGrid
) -> None:
    make_send(engine, ["ann@example.com", "bob@example.com", "cy@example.com", "dee@example.com"])
    sendgrid.add_suppression("bounces", "ANN@example.com", reason="550 unknown user")
    sendgrid.add_suppression("spam_reports", "bob@example.com")
    sendgrid.add_suppression("unsubscribes", "cy@example.com")
    sendgrid.add_suppression("unsubscribes", "bob@example.com")  # a complaint stays a complaint
    sendgrid.add_suppression("bounces", "stranger@example.net")

    first = CliRunner().invoke(app, ["suppressions", "sync", "--json"])
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout) == {
        "bounces": {"fetched": 2, "matched": 1, "changed": 1},
        "spam_reports": {"fetched": 1, "matched": 1, "changed": 1},
        "unsubscribes": {"fetched": 2, "matched": 2, "changed": 1},
    }
    assert _statuses(engine) == {
        "ann@example.com": Status.BOUNCED,
        "bob@example.com": Status.COMPLAINED,
        "cy@example.com": Status.UNSUBSCRIBED,
        "dee@example.com": Status.ACTIVE,
    }
    again = CliRunner().invoke(app, ["suppressions", "sync"])
    assert again.exit_code == 0
    assert "bounces: 2 on SendGrid, 1 known here, 0 changed" in again.stdout


def test_sync_without_an_api_key_is_a_clear_error(settings: Settings) -> None:
    result = CliRunner().invoke(app, ["suppressions", "sync"])
    assert result.exit_code == 1
    assert "error: SENDGRID_API_KEY is not set" in result.stderr
