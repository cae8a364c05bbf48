"""The editor workspace in a real browser: `newsletter serve` + a Celery worker + the local
SendGrid server. An editor signs in, writes an issue from scratch, watches the phone preview
follow the typing, fixes a lint warning, breaks the front matter (the draft survives a reload,
with the error's line) and mends it, sends a test copy (it arrives at the local SendGrid
server; one of its links is followed), finds the test address offered again on another
browser, schedules for next Monday 08:00 local time, pauses and resumes, sends, and reads the
report after the webhook posts signed events. An owner filters subscribers by a segment,
renames a list and adds a user (test_workspace_roles.py, with the viewer, who cannot reach any
write, and the signed-out browser sent to sign in). The editor's screenshots at 1280 and 390 px
go to docs/.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import Site, sign_in
from tests.fixtures.browser import artifact_path

pytestmark = pytest.mark.browser
# The editor's screenshots in docs/ are re-taken when asked (UPDATE_SCREENSHOTS=1), so a test
# run leaves the checkout as it found it; otherwise they go to test-artifacts/.
DOCS = Path(__file__).resolve().parents[2] / "docs"


def screenshot_path(name: str) -> Path:
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        return DOCS / name
    return artifact_path(name)


ISSUE = """---
subject: Workspace weekly
preheader: Written in the browser
---
Hello -subscriber_name-.

## Lead

Read [the story](https://example.com/story).

![](https://example.com/chart.png)
"""


def test_an_editor_writes_tests_schedules_and_sends(browser: Browser, site: Site) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, site, "editor")
    page.goto(site.url + "/admin/issues/new")
    editor = page.get_by_label("Markdown")
    editor.fill(ISSUE)
    phone = page.frame_locator("iframe[name=frame-phone]")
    expect(phone.get_by_text("Workspace weekly").first).to_be_visible(timeout=15_000)
    warnings = page.locator("[data-preview-warnings]")
    expect(warnings).to_contain_text("alt text", timeout=15_000)
    expect(page.locator("[data-save-state]")).to_contain_text("saved (version", timeout=15_000)
    editor.fill(ISSUE.replace("![](", "![A chart of the week](").replace("Lead", "Lead story"))
    expect(phone.get_by_text("Lead story").first).to_be_visible(timeout=15_000)
    expect(warnings).not_to_contain_text("alt text", timeout=15_000)
    expect(page.locator("[data-save-state]")).to_contain_text("version 2", timeout=15_000)
    page.screenshot(path=str(screenshot_path("workspace-editor-1280.png")))
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(screenshot_path("workspace-editor-390.png")))
    page.set_viewport_size({"width": 1280, "height": 900})

    _break_and_mend_the_draft(page)
    page.get_by_label("Send a test copy to").fill("tester@example.com")
    page.get_by_role("button", name="Save and send test copies").click()
    expect(page.get_by_role("status").first).to_contain_text("test copy sent to tester@example.com")
    test_copy = site.sendgrid.requests()[-1]["personalizations"][0]
    assert site.sendgrid.recipients()[-1]["email"] == "tester@example.com"  # it arrived
    links = [v for v in test_copy["substitutions"].values() if v.startswith(site.url)]
    assert links and all(httpx.get(link).status_code == 200 for link in links)
    web_version = next(link for link in links if "/v/" in link)
    reader = context.new_page()  # the reader's side: follow the copy's "view in browser" link
    reader.goto(web_version)
    expect(reader.get_by_text("Lead story").first).to_be_visible()
    reader.close()
    _the_test_address_is_remembered_elsewhere(browser, site)

    send_url = _schedule_next_monday(page, site)
    page.get_by_role("button", name="Pause").click()
    expect(page.locator("[data-field=state]").first).to_have_text("paused")
    page.get_by_role("button", name="Resume").click()
    expect(page.locator("[data-field=state]").first).to_have_text("scheduled")
    page.get_by_role("button", name="Cancel the send").click()
    assert page.url.startswith(send_url)

    _send_now_and_read_the_report(page, site)
    context.close()


def _break_and_mend_the_draft(page: Page) -> None:
    """Autosave keeps Markdown that does not parse: a reload shows it, with the error's line."""
    editor = page.get_by_label("Markdown")
    good = editor.input_value()
    editor.fill(good.replace("preheader:", "preheadr:"))
    saved = page.locator("[data-save-state]")
    expect(saved).to_contain_text("does not parse: line 3", timeout=15_000)
    page.reload()
    expect(page.get_by_label("Markdown")).to_have_value(re.compile("preheadr: Written"))
    expect(page.locator("#markdown-error")).to_contain_text("does not parse: line 3")
    page.get_by_role("button", name="Save and schedule…").click()
    expect(page.locator("#markdown-error")).to_contain_text("cannot be scheduled")
    page.get_by_label("Markdown").fill(good)
    expect(saved).to_contain_text("saved (version", timeout=15_000)
    expect(saved).not_to_contain_text("does not parse")


def _the_test_address_is_remembered_elsewhere(browser: Browser, site: Site) -> None:
    elsewhere = browser.new_context()  # another browser: no cookie of the first one
    page = elsewhere.new_page()
    sign_in(page, site, "editor", "/admin/issues/new")
    expect(page.get_by_label("Send a test copy to")).to_have_value("tester@example.com")
    elsewhere.close()


def _schedule_next_monday(page: Page, site: Site) -> str:
    page.goto(site.url + "/admin/issues")
    page.get_by_role("link", name="Workspace weekly").click()
    page.get_by_role("button", name="Save and schedule…").click()
    page.get_by_label("List", exact=True).select_option("weekly")
    expect(page.locator("#segment-count")).to_have_text("3 people", timeout=10_000)
    page.get_by_label("Segment").fill("attr.plan ==")
    expect(page.locator("#segment-count")).to_contain_text("column", timeout=10_000)
    page.get_by_label("Segment").fill("")
    page.get_by_label("When").fill(_next_monday())
    page.get_by_label("At that time in each reader's own time zone").check()
    page.get_by_role("button", name="Check before sending…").click()
    expect(page.get_by_text("the first copies go")).to_be_visible()
    expect(page.get_by_text("A test copy of this issue was sent.")).to_be_visible()
    page.get_by_role("button", name="Schedule").click()
    expect(page.locator("[data-field=state]").first).to_have_text("scheduled")
    return page.url


def _next_monday() -> str:
    today = time.localtime()
    days = (7 - today.tm_wday) % 7 or 7
    day = time.localtime(time.time() + days * 86400)
    return time.strftime("%Y-%m-%dT08:00", day)


def _send_now_and_read_the_report(page: Page, site: Site) -> None:
    page.goto(site.url + "/admin/issues")
    page.get_by_role("link", name="Workspace weekly").click()
    page.get_by_role("button", name="Save and schedule…").click()
    page.get_by_label("List", exact=True).select_option("weekly")
    page.get_by_role("button", name="Check before sending…").click()
    expect(page.get_by_text("Goes out now")).to_be_visible()  # the cancelled send does not count
    page.get_by_role("button", name="Send now to 3 people").click()
    expect(page.get_by_text("type 3 (the number of recipients)")).to_be_visible()
    page.get_by_label("Type 3, the number of recipients, to send now").fill("3")
    page.get_by_role("button", name="Send now to 3 people").click()
    expect(page.locator("[data-field=state]").first).to_have_text("done", timeout=30_000)
    sent = [r for r in site.sendgrid.recipients() if r["custom_args"]]
    events = [
        {
            "email": r["email"],
            "event": kind,
            "timestamp": int(time.time()),
            "sg_event_id": f"{kind}-{r['email']}",
            "sg_message_id": r["message_id"],
            **(r["custom_args"] or {}),
        }
        for r in sent[-3:]
        for kind in ("delivered", "open")
    ]
    body = json.dumps(events).encode()
    unsigned = httpx.post(site.url + "/webhooks/sendgrid", content=body)
    assert unsigned.status_code in (400, 401, 403), unsigned.text
    headers = site.webhook.headers(body)
    answer = httpx.post(site.url + "/webhooks/sendgrid", content=body, headers=headers)
    assert answer.status_code in (200, 202, 204), answer.text
    page.get_by_role("link", name="Report", exact=True).click()
    deadline = time.monotonic() + 30  # the worker judges the stored events shortly after
    while not re.search(r"opened\s+3", page.locator("body").inner_text()):
        assert time.monotonic() < deadline, page.locator("body").inner_text()
        page.wait_for_timeout(500)
        page.reload()
    assert re.search(r"delivered\s+3\s+100.00%", page.locator("body").inner_text())
    assert page.locator("svg").count() >= 1  # today's chart
