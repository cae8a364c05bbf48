"""Subscribers and lists pages: search and filter errors, person page, edit, unsubscribe,
erase with its typed confirmation, list creation; viewers read only."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from mailer.accounts.models import AuditEntry
from mailer.core.settings import Settings
from subscribers.db import transaction
from subscribers.models import Subscriber
from tests.unit.web.admin.conftest import csrf_of, sign_in
from tests.unit.web.conftest import World, add_subscriber


def test_search_and_filters(
    client: TestClient, world: World, engine: Engine, web_settings: Settings
) -> None:
    add_subscriber(engine, "bob@example.org", "Bob Stone", list_id=world.list_id)
    sign_in(client, web_settings, "viewer")
    found = client.get("/admin/subscribers?q=stone&list=weekly&status=active")
    assert found.status_code == 200 and "bob@example.org" in found.text
    assert "alice@example.com" not in found.text.lower().split("<tbody>")[1]
    bad_list = client.get("/admin/subscribers?list=nope")
    assert bad_list.status_code == 400 and 'id="list-error"' in bad_list.text
    bad_status = client.get("/admin/subscribers?status=sleeping")
    assert bad_status.status_code == 400 and 'id="status-error"' in bad_status.text
    assert client.get("/admin/subscribers?cursor=abc").status_code == 400


def test_segment_filter_pages_and_shows_the_error_at_its_column(
    client: TestClient, world: World, engine: Engine, web_settings: Settings
) -> None:
    for n in range(60):
        add_subscriber(engine, f"r{n:02d}@example.org", f"Reader {n}", list_id=world.list_id)
    add_subscriber(engine, "zed@example.net", "Reader Zed", list_id=world.list_id)
    sign_in(client, web_settings, "viewer")
    wanted = 'email ends_with "example.org" and name starts_with "Reader"'
    first = client.get("/admin/subscribers", params={"segment": wanted, "list": "weekly"})
    assert first.status_code == 200 and "r00@example.org" in first.text
    assert "zed@example.net" not in first.text and "alice@example.com" not in first.text
    cursor = re.search(r'segment=([^&"]+)&amp;cursor=(\d+)">Next page', first.text)
    assert cursor is not None  # the next page keeps the segment
    second = client.get(f"/admin/subscribers?list=weekly&segment={cursor[1]}&cursor={cursor[2]}")
    rows = re.findall(r"r(\d\d)@example.org</a>", first.text + second.text)
    assert sorted(rows) == [f"{n:02d}" for n in range(60)] and "zed@" not in second.text
    bad = client.get("/admin/subscribers", params={"segment": 'name = "x" and nope = 1', "q": "r"})
    assert bad.status_code == 400 and 'id="segment-error"' in bad.text
    assert "column 16: unknown field" in bad.text and 'aria-describedby="segment-error"' in bad.text
    assert 'value="name = &#34;x&#34; and nope = 1"' in bad.text and 'value="r"' in bad.text
    assert "\n" + " " * 15 + "^</pre>" in bad.text  # a caret under the column


def test_person_page_edit_unsubscribe(
    client: TestClient, world: World, engine: Engine, web_settings: Settings
) -> None:
    sign_in(client, web_settings, "editor")
    token = csrf_of(client, "/admin/issues/new")
    page = client.get("/admin/subscribers/alice@example.com")
    assert page.status_code == 200 and "Alice Martin" in page.text
    assert client.get("/admin/subscribers/nobody@example.com").status_code == 404
    edited = client.post(
        "/admin/subscribers/alice@example.com/edit",
        data={"name": "Alice M.", "tags": "vip, early", "csrf_token": token},
    )
    assert (
        edited.status_code == 200 and "Saved." in edited.text and 'value="Alice M."' in edited.text
    )
    gone = client.post(
        "/admin/subscribers/alice@example.com/unsubscribe", data={"csrf_token": token}
    )
    assert gone.status_code == 200 and "Status <strong>unsubscribed</strong>" in gone.text
    odd = client.post("/admin/subscribers/alice@example.com/explode", data={"csrf_token": token})
    assert odd.status_code == 404
    forged = client.post("/admin/subscribers/alice@example.com/unsubscribe", data={})
    assert forged.status_code == 400


def test_erase_needs_the_address_typed_in(
    client: TestClient, world: World, engine: Engine, web_settings: Settings
) -> None:
    sign_in(client, web_settings, "editor")
    token = csrf_of(client, "/admin/issues/new")
    url = "/admin/subscribers/alice@example.com/erase"
    refused = client.post(url, data={"confirm": "alice@", "csrf_token": token})
    assert refused.status_code == 400 and 'id="confirm-error"' in refused.text
    done = client.post(url, data={"confirm": "ALICE@example.com", "csrf_token": token})
    assert done.status_code == 303
    with transaction(engine) as session:
        assert (
            session.scalars(
                select(Subscriber.email).where(Subscriber.email_norm == "alice@example.com")
            ).all()
            == []
        )


def test_lists_create_and_errors(client: TestClient, world: World, web_settings: Settings) -> None:
    sign_in(client, web_settings, "editor")
    token = csrf_of(client, "/admin/lists")
    page = client.get("/admin/lists")
    assert "weekly" in page.text
    made = client.post(
        "/admin/lists", data={"name": "vip", "title": "VIPs", "private": "1", "csrf_token": token}
    )
    assert made.status_code == 303
    assert "private" in client.get("/admin/lists").text
    twice = client.post("/admin/lists", data={"name": "vip", "title": "Again", "csrf_token": token})
    assert twice.status_code == 400 and 'id="name-error"' in twice.text
    assert 'value="Again"' in twice.text


def test_lists_rename_retitle_and_hide(
    client: TestClient, world: World, engine: Engine, web_settings: Settings
) -> None:
    sign_in(client, web_settings, "editor")
    token = csrf_of(client, "/admin/lists")
    client.post("/admin/lists", data={"name": "vip", "csrf_token": token})
    form = {"name": "monday", "title": "The Monday letter", "private": "1", "csrf_token": token}
    saved = client.post("/admin/lists/weekly", data=form)
    assert saved.status_code == 303 and saved.headers["location"] == "/admin/lists?saved=1"
    page = client.get(saved.headers["location"]).text
    assert "List saved." in page and "The Monday letter" in page and "list=weekly" not in page
    row = page.split('href="/admin/subscribers?list=monday"')[1].split("</tr>")[0]
    assert "<td>private</td><td>1</td>" in row  # Alice stays on it, counted
    clash = client.post("/admin/lists/monday", data={**form, "name": "VIP", "title": "Kept"})
    assert clash.status_code == 400 and 'id="edit-name-error"' in clash.text
    assert "a list named &#39;vip&#39; already exists" in clash.text
    assert (
        'value="VIP"' in clash.text
        and 'value="Kept"' in clash.text
        and "<details open>" in clash.text
    )
    long = client.post("/admin/lists/monday", data={**form, "title": "t" * 201})
    assert long.status_code == 400 and 'id="edit-title-error"' in long.text
    public = client.post("/admin/lists/monday", data={"name": "monday", "csrf_token": token})
    assert public.status_code == 303 and "<td>public</td>" in client.get("/admin/lists").text
    assert client.post("/admin/lists/nope", data=form).status_code == 400
    assert client.post("/admin/lists/monday", data={**form, "csrf_token": ""}).status_code == 400
    with transaction(engine) as session:
        actions = session.scalars(select(AuditEntry.action)).all()
    assert actions.count("list.change") == 2


def test_viewer_cannot_change_people_or_lists(
    client: TestClient, world: World, web_settings: Settings
) -> None:
    sign_in(client, web_settings, "viewer")
    assert client.get("/admin/subscribers/alice@example.com").status_code == 200
    assert "Change weekly" not in client.get("/admin/lists").text
    for path in (
        "/admin/subscribers/alice@example.com/erase",
        "/admin/lists",
        "/admin/lists/weekly",
    ):
        assert client.post(path, data={}).status_code == 403
