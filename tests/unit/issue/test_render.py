"""Rendering an issue once: responsive HTML with inlined CSS, a text part, and warnings."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mailer.core.settings import Settings
from mailer.issue import placeholders
from mailer.issue.lint import GMAIL_CLIP_BYTES, sent_size
from mailer.issue.markup import EMPTY_CELL
from mailer.issue.parse import parse_issue, parse_issue_text
from mailer.issue.render import Branding, RenderedIssue, render_file, render_issue

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "issues" / "2026-11-30-weekly.md"
ADDRESS = "Future Compute Media, 12 Rue Example, 69002 Lyon, France"
BRAND = Branding(
    brand_name="Future Compute",
    tagline="For people who build computers",
    color="#5b3df5",
    postal_address=ADDRESS,
    postal_address_is_placeholder=False,
)
FOOTER_LINKS = (
    placeholders.UNSUBSCRIBE_URL,
    placeholders.PREFERENCES_URL,
    placeholders.FORWARD_URL,
    placeholders.VIEW_URL,
)


def render_text_of(body: str, front: str = "subject: S\npreheader: P\n") -> RenderedIssue:
    return render_issue(parse_issue_text(f"---\n{front}---\n{body}", source="t.md"), BRAND)


@pytest.fixture(scope="module")
def example() -> RenderedIssue:
    return render_file(EXAMPLE, BRAND)


def test_the_example_renders_well_under_gmails_clipping_limit(example: RenderedIssue) -> None:
    size = len(example.html.encode("utf-8"))
    assert size < GMAIL_CLIP_BYTES * 0.75, size
    assert sent_size(example.html) < GMAIL_CLIP_BYTES * 0.75
    assert example.html.lower().startswith("<!doctype html>")
    # The seed issue's empty category is announced, not silently dropped.
    assert [w.split(": ", 1)[1].split(" has ")[0] for w in example.warnings] == [
        "sub-heading '🧠 Neuromorphic Computing'"
    ]
    assert example.errors == []


def test_rendered_issue_carries_subject_preheader_and_slug(example: RenderedIssue) -> None:
    issue = parse_issue(EXAMPLE)
    assert (example.subject, example.preheader, example.slug) == (
        issue.subject,
        issue.preheader,
        issue.slug,
    )


def test_footer_placeholders_survive_mjml_premailer_and_escaping(example: RenderedIssue) -> None:
    for tag in FOOTER_LINKS:
        assert f'href="{tag}"' in example.html, tag
        assert tag in example.text, tag
    assert ADDRESS in example.html
    assert ADDRESS in example.text


def test_banner_markers_sit_once_before_the_content(example: RenderedIssue) -> None:
    assert example.html.count(placeholders.BANNER_MARKER) == 1
    assert example.html.index(placeholders.BANNER_MARKER) < example.html.index("<h1")
    assert example.text.count(placeholders.TEXT_BANNER_MARKER) == 1
    assert example.text.index(placeholders.TEXT_BANNER_MARKER) < example.text.index(example.subject)


def test_filling_the_placeholders_leaves_no_tag_behind(example: RenderedIssue) -> None:
    values = {tag: f"https://news.example.test/x/{i}" for i, tag in enumerate(placeholders.ALL)}
    for body in (example.html, example.text):
        filled = placeholders.fill(body, values)
        assert not any(tag in filled for tag in placeholders.ALL)
        assert "https://news.example.test/x/0" in filled


def test_every_link_of_the_issue_is_in_the_html_and_the_text(example: RenderedIssue) -> None:
    links = parse_issue(EXAMPLE).links()
    assert len(links) > 30
    for link in links:
        assert f'href="{link}"' in example.html, link
        assert link in example.text, link


def test_links_in_text_are_written_after_their_words() -> None:
    body = (
        "Read [the post](https://a.example/post) or <https://b.example>.\n"
        "Mail [us](mailto:editor@example.com).\n\n"
        "| Name | Site |\n|---|---|\n| [Acme](https://acme.example) | x |\n"
    )
    text = " ".join(render_text_of(body).text.split())
    assert "the post (https://a.example/post)" in text
    assert "https://b.example" in text
    assert "(https://b.example)" not in text, "a bare link is not written twice"
    assert "us (mailto:editor@example.com)" in text
    assert "Acme [1]" in text
    assert "[1] https://acme.example" in text


def test_the_hidden_preheader_comes_first_in_the_body(example: RenderedIssue) -> None:
    body = example.html[example.html.index("<body") :]
    hidden = re.search(r"<div[^>]*display:\s*none[^>]*>(.*?)</div>", body, re.DOTALL)
    assert hidden is not None
    assert hidden.group(1).startswith(example.preheader)
    assert body.index(hidden.group(0)) < body.index("<h1")


def test_no_preheader_means_no_hidden_preview_and_a_warning() -> None:
    rendered = render_text_of("Hello.\n", front="subject: S\n")
    assert "display:none" not in rendered.html.replace(" ", "")
    assert any("no preheader" in warning for warning in rendered.warnings)


def test_css_is_inlined_and_media_queries_are_kept(example: RenderedIssue) -> None:
    h2 = re.search(r'<h2 class="section-title" style="([^"]*)"', example.html)
    assert h2 is not None and "border-bottom" in h2.group(1)
    assert "@media only screen and (max-width: 480px)" in example.html
    assert "!important" in example.html, "media queries must still beat the inline styles"
    assert BRAND.color in example.html


def test_empty_sections_and_categories_are_not_rendered(example: RenderedIssue) -> None:
    assert "Neuromorphic" not in example.html
    assert "Neuromorphic" not in example.text


def test_each_section_is_its_own_block_with_sub_headings(example: RenderedIssue) -> None:
    issue = parse_issue(EXAMPLE)
    assert example.html.count('class="section-title"') == len(issue.sections)
    assert re.search(r"<h3[^>]*>🤖 AI</h3>", example.html)
    assert "🤖 AI\n-----" in example.text
    assert "Funding News\n============" in example.text


def test_the_funding_table_marks_empty_cells_in_html_and_text(example: RenderedIssue) -> None:
    assert '<table class="data"' in example.html
    # Shown as a dash, but hidden from screen readers (not read out as "en dash").
    assert re.search(
        rf'<td class="empty"[^>]*><span aria-hidden="true"[^>]*>{EMPTY_CELL}</span></td>',
        example.html,
    )
    table = example.text[example.text.index("Amount") :]
    header, rule, first = table.split("\n")[:3]
    assert header.split() == ["Amount", "Name", "Round", "Category"]
    assert set(rule) <= {"-", " "}
    assert first.split()[:3] == ["Undisclosed", "Coldline", "Labs"]
    assert EMPTY_CELL in first
    assert header.index("Round") == first.index(EMPTY_CELL), "columns line up"


def test_a_table_too_wide_for_text_becomes_one_line_per_row() -> None:
    long = "a very long description that will not fit in one column of plain text " * 2
    body = f"| Name | Notes | Round |\n|---|---|---|\n| Acme | {long} | |\n"
    rendered = render_text_of(body)
    assert "- Name: Acme; Notes: a very long" in rendered.text
    assert "Round:" not in rendered.text, "empty cells are left out of a row line"


def test_lists_quotes_emphasis_images_and_emoji() -> None:
    body = (
        "## Things 🚀\n\n- **Bold lead:** text\n- second\n\n1. one\n2. two\n\n"
        "> A quote\n\n![A chip on a board](https://img.example/chip.png){width=400}\n\n"
        "~~gone~~ `code`\n"
    )
    rendered = render_text_of(body)
    html, text = rendered.html, rendered.text
    assert "<strong" in html and "Bold lead:" in html
    assert "<ol" in html and "<blockquote" in html
    assert re.search(r'<img src="https://img.example/chip.png" alt="A chip on a board"', html)
    assert "Things 🚀" in html
    assert "- Bold lead: text" in text
    assert "1. one\n2. two" in text
    assert "> A quote" in text
    assert "[A chip on a board]" in text
    assert rendered.warnings == []


def test_editor_text_is_escaped_and_raw_html_is_not_passed_through() -> None:
    front = "subject: 'Chips & \"dips\" <b>'\npreheader: P\n"
    rendered = render_text_of("<script>alert(1)</script>\n\nTom & Jerry\n", front=front)
    assert "<script>" not in rendered.html
    assert "&lt;script&gt;" in rendered.html
    assert "Chips &amp; &quot;dips&quot; &lt;b&gt;" in rendered.html or (
        'Chips &amp; "dips" &lt;b&gt;' in rendered.html
    )
    assert "<b>" not in rendered.html
    assert 'Chips & "dips" <b>' in rendered.text
    assert "\\u{" not in rendered.html, "no Rust escapes leak into attributes"


def test_emoji_subject_is_kept_literally_everywhere() -> None:
    rendered = render_text_of("Hi.\n", front="subject: 🛠️ Tape-out\npreheader: P\n")
    assert "<title>🛠️ Tape-out</title>" in rendered.html
    assert 'aria-label="🛠️ Tape-out"' in rendered.html
    assert "<h1" in rendered.html and "🛠️ Tape-out</h1>" in rendered.html


def test_branding_comes_from_settings(tmp_path: Path) -> None:
    settings = Settings(
        SECRET_KEY="k",
        VAR_DIR=tmp_path,
        BRAND_NAME="Chip Notes",
        BRAND_TAGLINE="Silicon, weekly",
        BRAND_COLOR="#aa3300",
        BRAND_LOGO_URL="https://cdn.example/logo.png",
        FOOTER_TEXT="You signed up at chipnotes.example.",
        POSTAL_ADDRESS="1 Rue de la Puce, Paris",
        FROM_NAME="Chip Notes Team",
    )
    brand = Branding.from_settings(settings)
    assert brand.brand_name == "Chip Notes"
    assert brand.from_name == "Chip Notes Team"
    assert not brand.postal_address_is_placeholder
    rendered = render_issue(parse_issue_text("---\nsubject: S\n---\nHi.\n"), brand)
    for value in ("Silicon, weekly", "#aa3300", "https://cdn.example/logo.png", "chipnotes"):
        assert value in rendered.html, value
    assert 'alt="Chip Notes"' in rendered.html
    assert "1 Rue de la Puce, Paris" in rendered.text


def test_front_matter_overrides_the_branding_for_one_issue() -> None:
    front = "subject: S\npreheader: P\nbrand_name: Special Edition\nbrand_color: '#008060'\n"
    rendered = render_text_of("Hi.\n", front=front)
    assert "Special Edition" in rendered.html and "Special Edition" in rendered.text
    assert "#008060" in rendered.html
    assert BRAND.color not in rendered.html


def test_rendering_is_deterministic(example: RenderedIssue) -> None:
    assert render_file(EXAMPLE, BRAND) == example


def test_warning_for_images_without_alt_names_the_line() -> None:
    rendered = render_text_of("Intro.\n\n![](https://img.example/a.png)\n")
    assert "t.md:7: image without alt text (https://img.example/a.png)" in rendered.warnings[0]


@pytest.mark.parametrize("href", ["ftp://files.example/x", "www.example.com", "/relative", "#top"])
def test_error_for_links_that_are_not_http_or_mailto(href: str) -> None:
    rendered = render_text_of(f"## S\n\nSee [this]({href}).\n")
    assert rendered.warnings == []
    assert rendered.errors == [
        f"t.md:7: link {href!r} is not http(s) or mailto: it will not work in an email; "
        "write the full address, https://..."
    ]


def test_no_warning_for_http_https_and_mailto_links() -> None:
    body = "[a](http://a.example) [b](https://b.example) [c](mailto:c@example.com)\n"
    assert render_text_of(body).warnings == []


def test_warning_for_a_placeholder_postal_address() -> None:
    issue = parse_issue_text("---\nsubject: S\npreheader: P\n---\nHi.\n")
    rendered = render_issue(issue, Branding())
    assert any("POSTAL_ADDRESS" in warning for warning in rendered.warnings)


def test_warning_when_the_html_is_too_big_for_gmail() -> None:
    paragraph = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 20
    body = "\n\n".join(f"## Part {i}\n\n{paragraph}" for i in range(120))
    rendered = render_text_of(body)
    assert len(rendered.html.encode()) > GMAIL_CLIP_BYTES
    assert any("over 102 KB" in warning for warning in rendered.warnings)
