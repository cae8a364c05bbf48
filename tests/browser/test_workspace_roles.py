"""The workspace by role, in a real browser: a viewer reaches no write (no form offers one,
and every write route answers 403 even with the viewer's own CSRF token); a signed-out browser
is sent to sign in; an owner filters subscribers by a segment (the error at its column),
renames a list, adds a user (the password typed twice) who signs in, and disables them (their
session ends at once)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import PASSWORD, Site, sign_in

pytestmark = pytest.mark.browser


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
    for path in ("/admin/issues", "/admin/lists", "/admin/subscribers", "/admin/sends"):
        page.goto(site.url + path)  # no form that writes: only signing out
        expect(page.locator("form[method=post]:not([action='/admin/logout'])")).to_have_count(0)
    expect(page.get_by_role("link", name="Write a new issue")).to_have_count(0)
    assert page.goto(site.url + "/admin/people").status == 403  # type: ignore[union-attr]
    page.goto(site.url + "/admin")
    csrf = page.locator("input[name=csrf_token]").first.input_value()  # a real token of theirs
    form: dict[str, str | float | bool] = {"csrf_token": csrf, "email": "viewer@example.com"}
    form.update(name="x", role="owner")
    for path in WRITES:
        answer = page.request.post(site.url + path, form=form, max_redirects=0)
        assert answer.status == 403, (path, answer.status)
    context.close()


# Every route that writes, with ids that exist or not: the role check comes first.
WRITES = (
    "/admin/issues/autosave",
    "/admin/issues/save",
    "/admin/issues/upload",
    "/admin/preview",
    "/admin/preview/frame/phone",
    "/admin/issues/1/preflight",
    "/admin/issues/1/send",
    "/admin/segments/count",
    "/admin/sends/1/pause",
    "/admin/sends/1/cancel",
    "/admin/lists",
    "/admin/lists/weekly",
    "/admin/subscribers/reader0@example.com/edit",
    "/admin/subscribers/reader0@example.com/erase",
    "/admin/subscribers-transfer/import",
    "/admin/people/users",
    "/admin/people/users/role",
    "/admin/people/users/disable",
    "/admin/people/tokens",
    "/admin/people/tokens/revoke",
)


def test_an_owner_filters_renames_and_adds_a_user(browser: Browser, site: Site) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, site, "owner", "/admin/subscribers")
    segment = page.get_by_label("Segment")
    segment.fill('timezone starts_with "Europe" or nme = 1')
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#segment-error")).to_contain_text("column 34")
    expect(page.get_by_label("Segment")).to_have_value('timezone starts_with "Europe" or nme = 1')
    page.get_by_label("Segment").fill('timezone starts_with "Europe"')
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("link", name="reader0@example.com")).to_be_visible()
    expect(page.get_by_role("link", name="reader1@example.com")).to_have_count(0)

    page.goto(site.url + "/admin/lists")
    page.get_by_text("Change weekly").click()
    page.locator("#l1-name").fill("monday")
    page.locator("#l1-title").fill("The Monday letter")
    page.get_by_role("button", name="Save weekly").click()
    expect(page.get_by_role("status")).to_have_text("List saved.")
    expect(page.get_by_role("cell", name="The Monday letter")).to_be_visible()

    page.goto(site.url + "/admin/people")
    page.get_by_label("Email", exact=True).fill("new@example.com")
    page.get_by_label("Role", exact=True).select_option("viewer")
    page.get_by_label("Initial password").fill(PASSWORD)
    page.get_by_label("The password again").fill(PASSWORD + "!")
    page.get_by_role("button", name="Add the user").click()
    expect(page.locator("#password2-error")).to_have_text("password2: the two passwords differ")
    expect(page.get_by_label("Email", exact=True)).to_have_value("new@example.com")
    page.get_by_label("Initial password").fill(PASSWORD)
    page.get_by_label("The password again").fill(PASSWORD)
    page.get_by_role("button", name="Add the user").click()
    expect(page.get_by_role("status").first).to_have_text("User added.")
    newcomer = browser.new_page()
    newcomer.goto(site.url + "/admin")
    newcomer.get_by_label("Email address").fill("new@example.com")
    newcomer.get_by_label("Password").fill(PASSWORD)
    newcomer.get_by_role("button", name="Sign in").click()
    expect(newcomer).to_have_url(site.url + "/admin")
    page.get_by_role("button", name="Disable new@example.com").click()
    expect(page.get_by_role("status").first).to_contain_text("sessions have ended")
    newcomer.reload()
    expect(newcomer).to_have_url(re.compile(r"/admin/login\?next="))
    newcomer.close()
    context.close()
