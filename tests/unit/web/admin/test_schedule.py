"""Schedule and pre-flight: errors next to their field, live count, the typed-in count."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from mailer.accounts.models import AuditEntry
from mailer.core.models import Send
from mailer.core.settings import Settings
from subscribers.db import transaction
from tests.unit.web.admin.conftest import csrf_of, sign_in
from tests.unit.web.conftest import World

ISSUE = "---\nsubject: Monday\npreheader: p\n---\nHello, [a](https://e.example/a)\n"


def _draft(client: TestClient, settings: Settings) -> tuple[str, int]:
    sign_in(client, settings, "editor")
    token = csrf_of(client, "/admin/issues/new")
    saved = client.post(
        "/admin/issues/autosave", json={"markdown": ISSUE}, headers={"X-CSRF-Token": token}
    )
    return token, saved.json()["issue_id"]


def test_live_count_and_its_column(
    client: TestClient, world: World, web_settings: Settings
) -> None:
    token, _issue = _draft(client, web_settings)
    headers = {"X-CSRF-Token": token}
    ok = client.post(
        "/admin/segments/count", json={"list": "weekly", "segment": ""}, headers=headers
    )
    assert ok.status_code == 200 and ok.json() == {"count": 1}
    bad = client.post(
        "/admin/segments/count", json={"list": "weekly", "segment": "tags has"}, headers=headers
    )
    assert bad.status_code == 400 and bad.json()["field"] == "segment"
    assert "column" in bad.json()["detail"]
    none = client.post("/admin/segments/count", json={"list": "nope"}, headers=headers)
    assert none.status_code == 400 and "list 'nope' does not exist" in none.json()["detail"]


def test_each_field_error_is_shown_next_to_it(
    client: TestClient, world: World, web_settings: Settings
) -> None:
    token, issue = _draft(client, web_settings)
    page = client.post(
        "/admin/issues/save",
        data={
            "markdown": ISSUE,
            "csrf_token": token,
            "action": "schedule",
            "issue_id": str(issue),
            "version": "1",
        },
    )
    assert page.status_code == 200 and '<option value="weekly">' in page.text
    base = {"list": "weekly", "segment": "", "at": "", "csrf_token": token}
    cases = [
        ({"list": ""}, "list", "choose a list"),
        ({"segment": "attr.x =="}, "segment", "column"),
        ({"at": "2001-01-01T08:00"}, "at", "is in the past"),
        ({"at": "", "local_time": "1"}, "at", "needs a date and time"),
    ]
    for change, name, text in cases:
        answer = client.post(f"/admin/issues/{issue}/preflight", data={**base, **change})
        assert answer.status_code == 400, change
        after = answer.text.split(f'id="{name}-error"')[1][:200]
        assert text in after, (change, after)
        assert f'aria-describedby="{name}-error"' in answer.text
    assert client.post("/admin/issues/999/preflight", data=base).status_code == 404


def test_send_now_needs_the_count_typed_in(
    client: TestClient, world: World, engine: Engine, web_settings: Settings
) -> None:
    token, issue = _draft(client, web_settings)
    form = {"list": "weekly", "segment": "", "at": "", "csrf_token": token}
    flight = client.post(f"/admin/issues/{issue}/preflight", data=form)
    assert flight.status_code == 200
    assert "Type <strong>1</strong>" in flight.text and "No test copy" in flight.text
    wrong = client.post(f"/admin/issues/{issue}/send", data={**form, "confirm": "12"})
    assert wrong.status_code == 400 and "type 1 (the number of recipients)" in wrong.text
    with transaction(engine) as session:
        assert session.scalars(select(Send).where(Send.subject == "Monday")).all() == []


def test_schedule_later_in_local_time(
    client: TestClient, world: World, engine: Engine, web_settings: Settings
) -> None:
    token, issue = _draft(client, web_settings)
    form = {
        "list": "weekly",
        "segment": "",
        "at": "2099-03-02T08:00",
        "local_time": "1",
        "csrf_token": token,
    }
    flight = client.post(f"/admin/issues/{issue}/preflight", data=form)
    assert flight.status_code == 200 and "the first copies go" in flight.text
    done = client.post(f"/admin/issues/{issue}/send", data=form)
    assert done.status_code == 303 and done.headers["location"].startswith("/admin/sends/")
    with transaction(engine) as session:
        send = session.scalars(select(Send).where(Send.subject == "Monday")).one()
        assert send.local_time and send.wall_time == "2099-03-02T08:00:00"
        assert send.issue_id == issue
        actions = session.scalars(select(AuditEntry.action)).all()
        assert "send.create" in actions
    again = client.post(f"/admin/issues/{issue}/send", data=form)
    assert again.status_code == 400 and "already went (or is scheduled)" in again.text
    assert (
        client.post(f"/admin/issues/{issue}/send", data={**form, "again": "1"}).status_code == 303
    )
