"""The cached Premailer writes what a fresh Premailer writes, render after render."""

from __future__ import annotations

from premailer import Premailer

from mailer.issue.inliner import _OPTIONS, CachedPremailer, _style_rules

HTML = """<!doctype html><html><head><style>
p { color: #123456; margin: 0 }
.big { font-size: 20px !important }
@media (max-width: 480px) { .big { font-size: 16px } p { margin: 4px } }
a:hover { color: red }
</style></head><body><p class="big">Hello <a href="https://example.com">there</a></p>
<p>{text}</p></body></html>"""


def test_same_output_as_premailer_and_the_stylesheet_is_reused() -> None:
    hits = _style_rules.cache_info().hits
    for text in ("first", "second", "third"):
        html = HTML.replace("{text}", text)
        expected = Premailer(html, **_OPTIONS).transform(pretty_print=False)
        assert CachedPremailer(html).transform(pretty_print=False) == expected
    assert _style_rules.cache_info().hits >= hits + 2  # parsed once for the three
    cached = CachedPremailer(HTML).transform(pretty_print=False)
    assert "@media (max-width: 480px)" in cached and "!important" in cached
    assert 'style="color:#123456' in cached
