"""The editor workspace in a real browser: `newsletter serve` + a Celery worker + the local
SendGrid server. An editor signs in, writes an issue, watches the phone preview follow the
typing, fixes a lint warning, sends a test copy (its links work), schedules for next Monday
08:00 local time, pauses and resumes, sends, and reads the report after the webhook posts
events. A viewer cannot write; a signed-out browser lands on the sign-in page. The editor's
screenshots at 1280 and 390 px go to docs/.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import Engine

from mailer.accounts.principal import cli_principal
from mailer.accounts.users import add_user
from mailer.core.settings import Settings
from subscribers.db import transaction
from subscribers.models import MailingList
from tests.fixtures.fake_sendgrid import FakeSendGrid, fake_sendgrid
from tests.fixtures.services import RedisServer, free_port, port_open, wait_for
from tests.fixtures.workers import service_env, workers
from tests.unit.web.conftest import add_subscriber

pytestmark = pytest.mark.browser
DOCS = Path(__file__).resolve().parents[2] / "docs"
PASSWORD = "a long enough passphrase"
ISSUE = """---
subject: Workspace weekly
preheader: Written in the browser
---
Hello -subscriber_name-.

## Lead

Read [the story](https://example.com/story).

![](https://example.com/chart.png)
"""


@dataclass
class Site:
    url: str
    sendgrid: FakeSendGrid


@pytest.fixture
def site(settings: Settings, engine: Engine, redis: RedisServer, workdir: Path) -> Iterator[Site]:
    with transaction(engine) as session:
        session.add(MailingList(name="weekly", title="Weekly"))
        for role in ("editor", "viewer"):
            add_user(session, cli_principal(), f"{role}@example.com", role, PASSWORD)
    weekly = 1
    for n, zone in enumerate(("Europe/Paris", "America/New_York", "Asia/Tokyo")):
        add_subscriber(engine, f"reader{n}@example.com", f"Reader {n}", list_id=weekly)
        with transaction(engine) as session:
            from subscribers.models import Subscriber

            session.get_one(Subscriber, n + 1).timezone = zone
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with fake_sendgrid(record="full") as sendgrid:
        env = service_env(
            {
                "SENDGRID_API_KEY": sendgrid.api_key,
                "SENDGRID_API_HOST": sendgrid.url,
                "PUBLIC_BASE_URL": url,
                "REDIS_URL": redis.url,
                "SENDGRID_WEBHOOK_INSECURE": "true",
                "DATABASE_URL": settings.DATABASE_URL,
                "SECRET_KEY": settings.SECRET_KEY,
            }
        )
        command = [sys.executable, "-m", "mailer.cli.main", "serve", "--port", str(port)]
        server = subprocess.Popen(command, env=env, cwd=workdir)
        try:
            with workers(env, workdir, count=1):
                wait_for(lambda: port_open(port), what="newsletter serve")
                yield Site(url, sendgrid)
        finally:
            server.terminate()
            server.wait(15)


def sign_in(page: Page, site: Site, role: str, path: str = "/admin") -> None:
    page.goto(site.url + path)
    expect(page).to_have_url(f"{site.url}/admin/login?next={path}")
    page.get_by_label("Email address").fill(f"{role}@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(site.url + path)


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
    DOCS.mkdir(exist_ok=True)
    page.screenshot(path=str(DOCS / "workspace-editor-1280.png"))
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(DOCS / "workspace-editor-390.png"))
    page.set_viewport_size({"width": 1280, "height": 900})

    page.get_by_label("Send a test copy to").fill("tester@example.com")
    page.get_by_role("button", name="Save and send test copies").click()
    expect(page.get_by_role("status").first).to_contain_text("test copy sent to tester@example.com")
    test_copy = site.sendgrid.requests()[-1]["personalizations"][0]
    links = [v for v in test_copy["substitutions"].values() if v.startswith(site.url)]
    assert links and all(httpx.get(link).status_code == 200 for link in links)

    send_url = _schedule_next_monday(page, site)
    page.get_by_role("button", name="Pause").click()
    expect(page.locator("[data-field=state]").first).to_have_text("paused")
    page.get_by_role("button", name="Resume").click()
    expect(page.locator("[data-field=state]").first).to_have_text("scheduled")
    page.get_by_role("button", name="Cancel the send").click()
    assert page.url.startswith(send_url)

    _send_now_and_read_the_report(page, site)
    context.close()


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
    answer = httpx.post(site.url + "/webhooks/sendgrid", content=json.dumps(events).encode())
    assert answer.status_code in (200, 202, 204), answer.text
    page.get_by_role("link", name="Report", exact=True).click()
    deadline = time.monotonic() + 30  # the worker judges the stored events shortly after
    while not re.search(r"opened\s+3", page.locator("body").inner_text()):
        assert time.monotonic() < deadline, page.locator("body").inner_text()
        page.wait_for_timeout(500)
        page.reload()
    assert re.search(r"delivered\s+3\s+100.00%", page.locator("body").inner_text())
    assert page.locator("svg").count() >= 1  # today's chart


def test_a_viewer_cannot_write_and_a_stranger_must_sign_in(browser: Browser, site: Site) -> None:
    stranger = browser.new_page()
    stranger.goto(site.url + "/admin/sends")
    expect(stranger).to_have_url(f"{site.url}/admin/login?next=/admin/sends")
    stranger.close()
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    sign_in(page, site, "viewer")
    assert page.goto(site.url + "/admin/issues/new").status == 403  # type: ignore[union-attr]
    expect(page.locator("body")).to_contain_text("it needs editor")
    page.goto(site.url + "/admin/issues")
    expect(page.get_by_role("link", name="Write a new issue")).to_have_count(0)
    context.close()
