"""The rendered example issue in real Chromium: fits a phone, a 600 px column on desktop."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from mailer.issue import placeholders
from mailer.issue.parse import parse_issue
from mailer.issue.render import Branding, RenderedIssue, render_issue
from tests.fixtures.browser import artifact_path

pytestmark = pytest.mark.browser

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "issues" / "2026-11-30-weekly.md"
BRAND = Branding(
    brand_name="Future Compute",
    tagline="For founders, investors and computing geeks",
    color="#5b3df5",
    postal_address="Future Compute Media, 12 Rue Example, 69002 Lyon, France",
    postal_address_is_placeholder=False,
)
# Widest rendered box of any piece of content (paragraphs, lists, tables, headings, images). A
# table wider than a phone scrolls inside its box (div.table-wrap), which is what must fit.
WIDEST_CONTENT = """() => Math.max(...Array.from(
  document.querySelectorAll('h1, h2, h3, p, li, div.table-wrap, blockquote, img, td.callout-cell'),
  (element) => element.getBoundingClientRect().width))"""


@pytest.fixture(scope="module")
def rendered() -> RenderedIssue:
    return render_issue(parse_issue(EXAMPLE), BRAND)


@pytest.fixture
def open_email(browser: Browser, rendered: RenderedIssue) -> Iterator[Callable[[int], Page]]:
    pages: list[Page] = []

    def open_at(width: int) -> Page:
        page = browser.new_page(viewport={"width": width, "height": 900})
        pages.append(page)
        page.set_content(rendered.html, wait_until="load")
        return page

    yield open_at
    for page in pages:
        page.close()


def test_no_horizontal_scrolling_on_a_phone(
    open_email: Callable[[int], Page], rendered: RenderedIssue
) -> None:
    page = open_email(375)
    page.screenshot(path=artifact_path("email-375.png"), full_page=True)
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= 375
    assert page.evaluate(WIDEST_CONTENT) <= 375
    table = page.locator("div.table-wrap").bounding_box()
    assert table is not None and table["width"] <= 375 - 2 * 16, "the table's box fits with margins"
    assert page.locator("h1").inner_text() == rendered.subject


def test_content_column_is_at_most_600px_on_desktop(open_email: Callable[[int], Page]) -> None:
    page = open_email(800)
    page.screenshot(path=artifact_path("email-800.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 800
    widest = page.evaluate(WIDEST_CONTENT)
    assert 480 <= widest <= 600, "the column uses the desktop width, but no more than 600 px"
    heading = page.locator("h1").bounding_box()
    assert heading is not None and heading["x"] >= (800 - 600) / 2, "the column is centred"


def test_every_link_of_the_issue_is_a_link_in_the_page(open_email: Callable[[int], Page]) -> None:
    page = open_email(800)
    script = "links => links.map(a => a.getAttribute('href'))"
    hrefs = set(page.eval_on_selector_all("a[href]", script))
    missing = [link for link in parse_issue(EXAMPLE).links() if link not in hrefs]
    assert missing == []
    for tag in (
        placeholders.UNSUBSCRIBE_URL,
        placeholders.PREFERENCES_URL,
        placeholders.FORWARD_URL,
        placeholders.VIEW_URL,
    ):
        assert tag in hrefs


def test_preheader_is_in_the_page_but_hidden(
    open_email: Callable[[int], Page], rendered: RenderedIssue
) -> None:
    page = open_email(375)
    hidden = page.get_by_text(rendered.preheader, exact=False).first
    assert hidden.count() == 1
    assert not hidden.is_visible()
