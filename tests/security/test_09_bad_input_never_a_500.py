"""9. Bad input gets a clear 4xx (or a rejected row), never a 500 or a traceback.

Run these on PostgreSQL too (NEWSLETTER_TEST_DB=postgresql): it refuses NUL bytes in text.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from mailer.core.models import Event
from mailer.core.settings import Settings
from mailer.web.app import create_app
from subscribers.db import transaction
from subscribers.importer import import_csv
from subscribers.segment_parser import parse
from subscribers.segment_tokens import SegmentError
from tests.security.helpers import signup
from tests.unit.events.helpers import Signer, body_of, event
from tests.unit.web.conftest import World


@pytest.mark.parametrize("field", ["email", "name", "list", "ref"])
def test_nul_in_a_signup_field(client: TestClient, world: World, field: str) -> None:
    values = {"email": "ann@example.com", field: "ann\x00@example.com"}
    response = signup(client, **values)
    assert response.status_code == 400, response.text


def test_nul_in_an_archive_slug(client: TestClient, world: World) -> None:
    assert client.get("/archive/issue-7%00").status_code == 404


def test_nul_in_an_imported_field_is_a_rejected_row(engine: Engine, workdir: Path) -> None:
    path = workdir / "people.csv"
    path.write_text("email,name,city\nann@example.com,A\x00nn,x\nbo@example.com,Bo,Pa\x00ris\n")
    result = import_csv(engine, path)
    assert (result.rows, result.added, result.rejected) == (2, 0, 2)


@pytest.mark.parametrize("stamp", [10**15, 10**30, -(10**12), -1])
def test_webhook_event_with_an_absurd_timestamp(
    settings: Settings, engine: Engine, stamp: int
) -> None:
    signer = Signer()
    hooked = settings.model_copy(update={"SENDGRID_WEBHOOK_PUBLIC_KEY": signer.public_key})
    events: list[dict[str, Any]] = [
        event("delivered", "a@example.com", timestamp=stamp),
        event("delivered", "b@example.com"),
    ]
    body = body_of(events)
    with TestClient(create_app(hooked)) as client:
        response = client.post("/webhooks/sendgrid", content=body, headers=signer.headers(body))
    assert response.status_code < 300, response.text
    with transaction(engine) as session:
        assert session.scalar(select(func.count()).select_from(Event)) == 2
        kept = session.scalars(select(Event).where(Event.email == "a@example.com")).one()
        assert kept.data.get("bad_timestamp") == json.loads(json.dumps(stamp))


def test_deeply_nested_segment_is_refused_with_a_column() -> None:
    with pytest.raises(SegmentError, match="deep") as raised:
        parse("(" * 200 + 'email = "x"' + ")" * 200)
    assert raised.value.column > 0
    with pytest.raises(SegmentError, match="deep"):
        parse("not " * 300 + 'email = "x"')


@pytest.mark.parametrize("field", ["email", "reason", "sg_event_id", "extra"])
def test_webhook_event_with_a_nul_byte(settings: Settings, engine: Engine, field: str) -> None:
    signer = Signer()
    hooked = settings.model_copy(update={"SENDGRID_WEBHOOK_PUBLIC_KEY": signer.public_key})
    bad = event("bounce", "a@example.com", reason="x")
    bad[field] = "a\x00b"
    body = body_of([bad, event("delivered", "b@example.com")])
    with TestClient(create_app(hooked)) as client:
        response = client.post("/webhooks/sendgrid", content=body, headers=signer.headers(body))
    assert response.status_code < 500, response.text
