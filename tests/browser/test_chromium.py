"""The browser fixture drives Debian's Chromium."""

import pytest
from playwright.sync_api import Browser

pytestmark = pytest.mark.browser


def test_chromium_renders_a_page(browser: Browser) -> None:
    page = browser.new_page()
    page.set_content("<h1 id='t'>hello</h1>")
    assert page.inner_text("#t") == "hello"
    page.close()
