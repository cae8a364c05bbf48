"""Home and sends pages: what they show, and pause / resume / cancel with their errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from mailer.core.models import Batch, BatchState, SendState
from mailer.core.settings import Settings
from subscribers.db import transaction
from tests.unit.web.admin.conftest import csrf_of, sign_in
from tests.unit.web.conftest import World, add_send


def _scheduled(engine: Engine, world: World, hours: float = 24) -> int:
    at = datetime.now(UTC) + timedelta(hours=hours)
    return add_send(
        engine, world.list_id, state=SendState.SCHEDULED, scheduled_at=at, subject="Next Monday"
    )


def test_home_shows_the_next_send_and_its_audience_now(
    client: TestClient, world: World, engine: Engine, web_settings: Settings
) -> None:
    _scheduled(engine, world)
    sign_in(client, web_settings, "viewer")
    home = client.get("/admin")
    assert home.status_code == 200
    assert "Next Monday" in home.text and "1 people now" in home.text
    assert "Inside a lab" in home.text  # the last finished send with its figures


def test_home_warns_about_uncertain_batches_and_a_silent_scheduler(
    client: TestClient, world: World, engine: Engine, web_settings: Settings
) -> None:
    _scheduled(engine, world, hours=-2)
    with transaction(engine) as session:
        session.add(
            Batch(send_id=world.send_id, seq=0, state=BatchState.UNCERTAIN, recipient_count=7)
        )
    sign_in(client, web_settings, "viewer")
    text = client.get("/admin").text
    assert f"send {world.send_id}: 7 recipients in uncertain batches" in text
    assert "is the scheduler running" in text


def test_pause_resume_cancel(
    client: TestClient, world: World, engine: Engine, web_settings: Settings
) -> None:
    send_id = _scheduled(engine, world)
    sign_in(client, web_settings, "editor")
    token = csrf_of(client, f"/admin/sends/{send_id}")
    paused = client.post(f"/admin/sends/{send_id}/pause", data={"csrf_token": token})
    assert paused.status_code == 303
    assert client.get(f"/admin/sends/{send_id}/progress").json()["state"] == "paused"
    assert "Done: pause." in client.get(paused.headers["location"]).text
    again = client.post(f"/admin/sends/{send_id}/pause", data={"csrf_token": token})
    assert again.status_code == 409 and f"cannot pause send {send_id}: it is paused" in again.text
    client.post(f"/admin/sends/{send_id}/resume", data={"csrf_token": token})
    assert client.get(f"/admin/sends/{send_id}/progress").json()["state"] == "scheduled"
    client.post(f"/admin/sends/{send_id}/cancel", data={"csrf_token": token})
    progress = client.get(f"/admin/sends/{send_id}/progress").json()
    assert progress["state"] == "cancelled" and progress["finished"] is True


def test_send_errors(
    client: TestClient, world: World, engine: Engine, web_settings: Settings
) -> None:
    sign_in(client, web_settings, "editor")
    token = csrf_of(client, "/admin/issues/new")  # one token serves every workspace form
    assert client.get("/admin/sends/999").status_code == 404
    assert client.get("/admin/sends/999/progress").status_code == 404
    assert client.get("/admin/sends/abc").status_code in (400, 404)
    missing = client.post("/admin/sends/999/pause", data={"csrf_token": token})
    assert missing.status_code == 404
    odd = client.post(f"/admin/sends/{world.send_id}/explode", data={"csrf_token": token})
    assert odd.status_code == 404
    forged = client.post(f"/admin/sends/{world.send_id}/cancel", data={"csrf_token": "x"})
    assert forged.status_code == 400
    done = client.post(f"/admin/sends/{world.send_id}/cancel", data={"csrf_token": token})
    assert done.status_code == 409 and "it is done" in done.text


def test_uncertain_batches_are_explained_and_can_be_resent(
    client: TestClient, world: World, engine: Engine, web_settings: Settings
) -> None:
    with transaction(engine) as session:
        session.add(
            Batch(
                send_id=world.send_id,
                seq=0,
                state=BatchState.UNCERTAIN,
                recipient_count=3,
                error="timeout after 30 s",
            )
        )
    sign_in(client, web_settings, "editor")
    page = client.get(f"/admin/sends/{world.send_id}")
    assert "second copy" in page.text and "Resend the 3 uncertain recipients" in page.text
    assert "timeout after 30 s" in page.text
    sign_in(client, web_settings, "viewer")
    assert "Resend the 3" not in client.get(f"/admin/sends/{world.send_id}").text


def test_reports_show_trends_and_top_links(
    client: TestClient, world: World, engine: Engine, web_settings: Settings
) -> None:
    from mailer.core.models import Event

    with transaction(engine) as session:
        for n, url in enumerate(
            ("https://e.example/a", "https://e.example/a", "https://e.example/b")
        ):
            session.add(
                Event(
                    sg_event_id=f"c{n}",
                    event="click",
                    email="alice@example.com",
                    subscriber_id=world.alice_id,
                    send_id=world.send_id,
                    occurred_at=datetime.now(UTC),
                    url=url,
                )
            )
    sign_in(client, web_settings, "viewer")
    page = client.get("/admin/reports")
    assert page.status_code == 200 and "Inside a lab" in page.text
    assert "https://e.example/a · 2 clicks" in page.text
    report = client.get(f"/admin/sends/{world.send_id}/report")
    assert report.status_code == 200 and "<svg" in report.text
    assert client.get("/admin/sends/999/report").status_code == 404
