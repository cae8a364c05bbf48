"""Both example issues and the stress issue as phones and desktops draw them, light and dark.

At 320, 375 and 600 px with `prefers-color-scheme` emulated: the page never scrolls sideways, no
table cell splits a word, all text reaches 4.5:1 against its background, every image has a pixel
width no wider than its column. Each page is saved as a screenshot in test-artifacts/.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Literal

import pytest
from playwright.sync_api import Browser, Page, Route

from mailer.issue.render import Branding, RenderedIssue, render_file
from tests.browser import email_checks
from tests.fixtures.browser import artifact_path

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
STRESS = ROOT / "tests" / "fixtures" / "issues" / "stress.md"
ISSUES = {
    "weekly": ROOT / "examples" / "issues" / "2026-11-30-weekly.md",
    "guide": ROOT / "examples" / "issues" / "2026-12-07-field-guide.md",
    "stress": STRESS,
}
# Every image the issues name is served as this 1,200 px wide picture: the worst case.
WIDE_IMAGE = STRESS.parent / "wide-1200.png"
BRAND = Branding(
    brand_name="Future of Computing Newsletter",
    tagline="Chips, clouds and qubits for founders, investors and engineers",
    color="#5b3df5",
    logo_url="https://img.example/logo.png",
    postal_address="Future Compute Media, 12 Rue Example, 69002 Lyon, France",
    postal_address_is_placeholder=False,
)
ORIGIN = "https://email.test"
Scheme = Literal["light", "dark"]
Opener = Callable[[str, int, Scheme], Page]


@cache
def rendered(name: str) -> RenderedIssue:
    return render_file(ISSUES[name], BRAND)


@pytest.fixture
def open_email(browser: Browser) -> Iterator[Opener]:
    pages: list[Page] = []

    def open_issue(name: str, width: int, scheme: Scheme) -> Page:
        page = browser.new_page(viewport={"width": width, "height": 800}, color_scheme=scheme)
        pages.append(page)
        html = rendered(name).html

        def serve(route: Route) -> None:
            if route.request.url.endswith(".png"):
                route.fulfill(body=WIDE_IMAGE.read_bytes(), content_type="image/png")
            elif route.request.url == f"{ORIGIN}/issue.html":
                route.fulfill(body=html, content_type="text/html; charset=utf-8")
            else:
                route.abort()

        page.route("**/*", serve)
        page.goto(f"{ORIGIN}/issue.html", wait_until="load")
        page.screenshot(path=artifact_path(f"email-{name}-{width}-{scheme}.png"), full_page=True)
        return page

    yield open_issue
    for page in pages:
        page.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [320, 375, 600])
@pytest.mark.parametrize("name", sorted(ISSUES))
def test_the_email_holds_up(open_email: Opener, name: str, width: int, scheme: Scheme) -> None:
    page = open_email(name, width, scheme)
    assert page.evaluate("document.documentElement.scrollWidth") <= width, "page scrolls sideways"
    assert page.evaluate(email_checks.SPLIT_WORDS) == [], "words split across lines in a table"
    assert page.evaluate(email_checks.LOW_CONTRAST) == [], "text under 4.5:1"
    if page.locator("table.data").count():
        assert page.evaluate(email_checks.SMALLEST_TABLE_FONT) >= 14
    images = page.evaluate(email_checks.IMAGES)
    assert images, "every issue shows at least the logo"
    for image in images:
        assert str(image["attribute"]).isdigit(), f"no pixel width: {image['src']}"
        assert int(image["attribute"]) <= 600, image
        assert image["drawn"] <= image["column"] + 0.5, image


def test_the_logo_keeps_its_size_at_every_width(open_email: Opener) -> None:
    for width in (320, 600):
        page = open_email("guide", width, "light")
        logo = page.locator('img[alt="Future of Computing Newsletter"]')
        assert logo.get_attribute("width") == "180"
        box = logo.bounding_box()
        assert box is not None and round(box["width"]) == 180


def test_dark_mode_really_changes_the_background(open_email: Opener) -> None:
    page = open_email("guide", 375, "dark")
    color = page.evaluate("getComputedStyle(document.querySelector('h1')).color")
    card = page.evaluate(
        "getComputedStyle(document.querySelector('.card > table')).backgroundColor"
    )
    assert color == "rgb(232, 234, 237)"
    assert card == "rgb(28, 31, 37)"
