"""People (owner only) and import/export: tokens shown once, audit log, the import's progress
and rejected rows, the export's CSV, and the errors next to their fields."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from mailer.core.settings import Settings
from tests.unit.web.admin.conftest import csrf_of, sign_in
from tests.unit.web.conftest import World


def test_people_is_for_owners(client: TestClient, world: World, web_settings: Settings) -> None:
    sign_in(client, web_settings, "editor")
    assert client.get("/admin/people").status_code == 403
    assert 'href="/admin/people"' not in client.get("/admin").text
    sign_in(client, web_settings, "owner")
    token = csrf_of(client, "/admin/people")
    made = client.post(
        "/admin/people/tokens", data={"name": "cms", "role": "editor", "csrf_token": token}
    )
    assert made.status_code == 200 and "shown this once: <code>" in made.text
    again = client.post(
        "/admin/people/tokens", data={"name": "cms", "role": "editor", "csrf_token": token}
    )
    assert again.status_code == 400 and 'id="name-error"' in again.text
    revoked = client.post("/admin/people/tokens/revoke", data={"name": "cms", "csrf_token": token})
    assert revoked.status_code == 200 and "revoked" in revoked.text
    missing = client.post("/admin/people/tokens/revoke", data={"name": "x", "csrf_token": token})
    assert missing.status_code == 400
    page = client.get("/admin/people")
    assert "token.create" in page.text and "token.revoke" in page.text
    assert "editor@example.com" in page.text


def test_import_with_progress_and_rejected_rows(
    client: TestClient, world: World, web_settings: Settings
) -> None:
    sign_in(client, web_settings, "editor")
    token = csrf_of(client, "/admin/subscribers-transfer")
    csv_body = b"email,name\nnew@example.com,New One\nnot-an-address,Bad\n"
    files = {"file": ("people.csv", csv_body, "text/csv")}
    no_list = client.post(
        "/admin/subscribers-transfer/import", data={"csrf_token": token}, files=files
    )
    assert no_list.status_code == 400 and 'id="list-error"' in no_list.text
    started = client.post(
        "/admin/subscribers-transfer/import",
        data={"csrf_token": token, "list": "weekly"},
        files=files,
    )
    assert started.status_code == 303
    job = started.headers["location"]
    assert client.get(job).status_code == 200
    deadline = time.monotonic() + 20
    while not (status := client.get(f"{job}/progress").json())["finished"]:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert status["added"] == 1 and status["rejected"] == 1
    rejected = client.get(f"{job}/rejected")
    assert rejected.status_code == 200 and "not-an-address" in rejected.text
    assert client.get("/admin/imports/../../etc").status_code == 404
    assert client.get("/admin/imports/0123456789abcdef").status_code == 404


def test_export_and_its_errors(client: TestClient, world: World, web_settings: Settings) -> None:
    sign_in(client, web_settings, "editor")
    csv_file = client.get("/admin/subscribers-transfer/export?list=weekly")
    assert csv_file.status_code == 200 and "alice@example.com" in csv_file.text.lower()
    bad = client.get("/admin/subscribers-transfer/export?list=nope")
    assert bad.status_code == 400 and 'id="export_list-error"' in bad.text
    odd = client.get("/admin/subscribers-transfer/export?segment=tags%20has")
    assert odd.status_code == 400 and 'id="export_segment-error"' in odd.text
    sign_in(client, web_settings, "viewer")
    assert client.get("/admin/subscribers-transfer/export").status_code == 403
