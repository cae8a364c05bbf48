"""The editor: live preview JSON and frames, CSRF on every post, upload, drafts, test copies."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from mailer.core.settings import Settings
from tests.unit.web.admin.conftest import csrf_of, sign_in
from tests.unit.web.conftest import body, outbox

GOOD = (
    "---\nsubject: Hello there\npreheader: p\n---\nHi -subscriber_name-, [a](https://e.example/a)\n"
)
BROKEN = "---\nsubject: x\nfoo: 1\n---\nhi"


def _editor(client: TestClient, settings: Settings) -> str:
    sign_in(client, settings, "editor")
    return csrf_of(client, "/admin/issues/new")


def test_preview_answers_as_the_editor_types(client: TestClient, web_settings: Settings) -> None:
    token = _editor(client, web_settings)
    headers = {"X-CSRF-Token": token}
    ok = client.post("/admin/preview", json={"markdown": GOOD}, headers=headers)
    assert ok.status_code == 200 and ok.json()["subject"] == "Hello there"
    broken = client.post("/admin/preview", json={"markdown": "---\nsubject: x\n"}, headers=headers)
    assert broken.status_code == 200
    assert broken.json()["ok"] is False and broken.json()["error"]["line"] == 1
    assert client.post("/admin/preview", json={"markdown": GOOD}).status_code == 400
    assert client.post("/admin/preview", json={}, headers=headers).status_code == 400
    huge = client.post("/admin/preview", json={"markdown": "x" * 600_000}, headers=headers)
    assert huge.status_code == 400


def test_frames_render_the_posted_text(client: TestClient, web_settings: Settings) -> None:
    token = _editor(client, web_settings)
    for mode in ("phone", "desktop", "dark"):
        frame = client.post(
            f"/admin/preview/frame/{mode}", data={"markdown": GOOD, "csrf_token": token}
        )
        assert frame.status_code == 200 and "Hi Alex" in frame.text
        assert frame.headers["x-frame-options"] == "SAMEORIGIN"
    refused = client.post("/admin/preview/frame/phone", data={"markdown": GOOD})
    assert refused.status_code == 400
    odd = client.post("/admin/preview/frame/tv", data={"markdown": GOOD, "csrf_token": token})
    assert odd.status_code == 404


def test_upload_opens_a_file_or_says_why_not(client: TestClient, web_settings: Settings) -> None:
    token = _editor(client, web_settings)
    files = {"file": ("monday.md", GOOD.encode(), "text/markdown")}
    opened = client.post("/admin/issues/upload", data={"csrf_token": token}, files=files)
    assert opened.status_code == 200 and "Opened monday.md" in opened.text
    assert "subject: Hello there" in opened.text
    files = {"file": ("bad.md", b"\xff\xfe\x00bad", "text/markdown")}
    bad = client.post("/admin/issues/upload", data={"csrf_token": token}, files=files)
    assert bad.status_code == 400 and "bad.md: not UTF-8 text" in bad.text
    assert 'aria-describedby="file-error"' in bad.text


def test_autosave_creates_then_versions_and_tells_the_second_saver(
    client: TestClient, web_settings: Settings
) -> None:
    headers = {"X-CSRF-Token": _editor(client, web_settings)}
    first = client.post("/admin/issues/autosave", json={"markdown": GOOD}, headers=headers)
    assert first.status_code == 200, first.text
    issue_id, version = first.json()["issue_id"], first.json()["version"]
    assert version == 1 and first.json()["url"] == f"/admin/issues/{issue_id}"
    body_ = {"issue_id": issue_id, "version": 1, "markdown": GOOD.replace("Hi", "Hey")}
    second = client.post("/admin/issues/autosave", json=body_, headers=headers)
    assert second.json()["version"] == 2
    stale = client.post("/admin/issues/autosave", json=body_, headers=headers)
    assert stale.status_code == 409 and "someone else saved this issue" in stale.json()["detail"]
    page = client.get(f"/admin/issues/{issue_id}")
    assert "Hey -subscriber_name-" in page.text and 'name="version" value="2"' in page.text
    assert client.get("/admin/issues/999").status_code == 404
    again = client.get(f"/admin/issues/new?start={issue_id}")
    assert "Hey -subscriber_name-" in again.text and 'name="issue_id" value=""' in again.text
    assert "Hey -subscriber_name-" in client.get("/admin/issues/new?start=last").text
    assert client.get("/admin/issues/new?start=42").status_code == 404
    assert "Hello there" in client.get("/admin/issues").text


def test_autosave_keeps_a_draft_that_does_not_parse(
    client: TestClient, web_settings: Settings
) -> None:
    headers = {"X-CSRF-Token": _editor(client, web_settings)}
    first = client.post("/admin/issues/autosave", json={"markdown": GOOD}, headers=headers)
    issue_id = first.json()["issue_id"]
    broken = {"issue_id": issue_id, "version": 1, "markdown": BROKEN}
    kept = client.post("/admin/issues/autosave", json=broken, headers=headers)
    assert kept.status_code == 200, kept.text
    assert kept.json()["version"] == 2
    assert kept.json()["error"]["line"] == 3
    assert kept.json()["error"]["message"].startswith("unknown front matter key foo")
    page = client.get(f"/admin/issues/{issue_id}")  # a reload shows the text and the error
    assert "foo: 1" in page.text and 'name="version" value="2"' in page.text
    assert "does not parse: line 3: unknown front matter key foo" in page.text
    assert 'aria-describedby="markdown-error"' in page.text
    stale = client.post("/admin/issues/autosave", json=broken, headers=headers)
    assert stale.status_code == 409  # the version check holds for broken drafts too
    fixed = {"issue_id": issue_id, "version": 2, "markdown": GOOD}
    assert (
        client.post("/admin/issues/autosave", json=fixed, headers=headers).json()["error"] is None
    )
    assert "does not parse" not in client.get(f"/admin/issues/{issue_id}").text
    new = client.post(
        "/admin/issues/autosave", json={"markdown": "---\nsubject: x\n"}, headers=headers
    )
    assert new.status_code == 200 and new.json()["version"] == 1
    assert new.json()["error"]["line"] == 1
    listed = client.get("/admin/issues").text  # both drafts are listed, flagged
    assert listed.count("does not parse") == 1 and "(no subject yet)" in listed
    too_big = {"markdown": "x" * 524_289}
    assert client.post("/admin/issues/autosave", json=too_big, headers=headers).status_code == 400


def test_a_draft_that_does_not_parse_is_saved_but_cannot_go_out(
    client: TestClient, world: object, web_settings: Settings, workdir: Path
) -> None:
    token = _editor(client, web_settings)
    form = {"markdown": BROKEN, "csrf_token": token, "action": "save"}
    saved = client.post("/admin/issues/save", data=form)
    assert saved.status_code == 303
    issue_id = saved.headers["location"].rsplit("/", 1)[1]
    page = client.get(saved.headers["location"])
    assert "foo: 1" in page.text and "line 3: unknown front matter key foo" in page.text
    kept = {**form, "issue_id": issue_id, "version": "1", "test_to": "me@example.com"}
    test = client.post("/admin/issues/save", data={**kept, "action": "test"})
    assert test.status_code == 400 and "cannot be test-sent until it parses: line 3" in test.text
    assert "foo: 1" in test.text and outbox(workdir) == []
    kept["version"] = "2"
    plan = client.post("/admin/issues/save", data={**kept, "action": "schedule"})
    assert plan.status_code == 400 and "cannot be scheduled until it parses" in plan.text
    form_ = {"list": "weekly", "csrf_token": token}
    preflight = client.post(f"/admin/issues/{issue_id}/preflight", data=form_)
    assert preflight.status_code == 400 and 'id="issue-error"' in preflight.text
    assert f"issue {issue_id} does not parse" in preflight.text
    sent = client.post(f"/admin/issues/{issue_id}/send", data={**form_, "confirm": "1"})
    assert sent.status_code == 400 and "does not parse" in sent.text


def test_save_form_errors_keep_the_text(client: TestClient, web_settings: Settings) -> None:
    token = _editor(client, web_settings)
    form = {"markdown": GOOD, "csrf_token": token, "action": "save"}
    saved = client.post("/admin/issues/save", data=form)
    assert saved.status_code == 303
    issue_id = saved.headers["location"].rsplit("/", 1)[1]
    stale = {**form, "markdown": GOOD + "more", "issue_id": issue_id, "version": "0"}
    conflict = client.post("/admin/issues/save", data=stale)
    assert conflict.status_code == 409 and "someone else saved this issue" in conflict.text
    assert "more</textarea>" in conflict.text
    assert client.post("/admin/issues/save", data={**form, "csrf_token": ""}).status_code == 400


def test_test_copy_errors_keep_the_input_next_to_the_field(
    client: TestClient, web_settings: Settings
) -> None:
    token = _editor(client, web_settings)
    form = {
        "markdown": GOOD,
        "test_to": "me@example.com, not-an-address",
        "csrf_token": token,
        "action": "test",
    }
    bad = client.post("/admin/issues/save", data=form)
    assert bad.status_code == 400
    assert "to: invalid email &#39;not-an-address&#39;" in bad.text
    assert 'value="me@example.com, not-an-address"' in bad.text
    assert 'aria-describedby="test_to-error"' in bad.text and "subject: Hello there" in bad.text


def test_test_copies_go_out_with_working_links_and_are_remembered(
    client: TestClient, web_settings: Settings, workdir: Path
) -> None:
    token = _editor(client, web_settings)
    form = {
        "markdown": GOOD,
        "test_to": "a@example.com b@example.com",
        "csrf_token": token,
        "action": "test",
    }
    sent = client.post("/admin/issues/save", data=form)
    assert sent.status_code == 200, sent.text
    assert "a test copy sent to a@example.com, b@example.com" in sent.text
    messages = outbox(workdir)
    assert sorted(str(m["To"]) for m in messages) == [
        "Test <a@example.com>",
        "Test <b@example.com>",
    ]
    html = body(messages[0], "html")
    assert f"{web_settings.PUBLIC_BASE_URL}/u/" in html and "-unsubscribe_url-" not in html
    base = web_settings.PUBLIC_BASE_URL
    links = set(re.findall(re.escape(base) + r'(/[upfv]/[^"\s]+)', html))
    assert {link[:3] for link in links} == {"/u/", "/p/", "/f/", "/v/"}
    for link in links:  # a test copy's reader links open a page, never "not found"
        opened = client.get(link)
        assert opened.status_code == 200, link
        assert "test copy" in opened.text or "Hello there" in opened.text
    again = client.get("/admin/issues/new")
    assert 'value="a@example.com b@example.com"' in again.text
    client.cookies.clear()  # another browser: the addresses are the user's, not the cookie's
    sign_in(client, web_settings, "editor")
    elsewhere = client.get("/admin/issues/new")
    assert 'value="a@example.com b@example.com"' in elsewhere.text
    sign_in(client, web_settings, "owner")  # someone else has their own (none yet)
    assert 'id="test_to" name="test_to" value=""' in client.get("/admin/issues/new").text


def test_view_as_a_subscriber(client: TestClient, world: object, web_settings: Settings) -> None:
    token = _editor(client, web_settings)
    headers = {"X-CSRF-Token": token}
    body_ = {"markdown": GOOD, "view_as": "ALICE@example.com"}
    theirs = client.post("/admin/preview", json=body_, headers=headers).json()
    assert "Hi Alice Martin" in theirs["text"] and "/u/preview-" in theirs["text"]
    unknown = client.post(
        "/admin/preview", json={**body_, "view_as": "x@example.com"}, headers=headers
    ).json()
    assert "Hi Alex" in unknown["text"]
    frame = client.post(
        "/admin/preview/frame/phone",
        data={"markdown": GOOD, "view_as": "alice@example.com", "csrf_token": token},
    )
    assert "Hi Alice Martin" in frame.text
