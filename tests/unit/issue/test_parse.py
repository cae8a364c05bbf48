"""Parsing an issue file: front matter validated strictly, Markdown split into sections."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from mailer.core.errors import NewsletterError
from mailer.issue.parse import IssueError, make_slug, parse_issue, parse_issue_text

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "issues" / "2026-11-30-weekly.md"

MINIMAL = """---
subject: Inside a fast-growing AI lab
preheader: Culture, code and infrastructure
date: 2025-07-21
---
Intro paragraph.

## Deep Dive
Text with a [link](https://example.com/a).

### Culture
- **Hypergrowth:** fast.
"""


def issue_with_front_matter(front: str, body: str = "Hello.\n") -> str:
    return f"---\n{front}---\n{body}"


def test_the_example_issue_has_the_published_shape() -> None:
    issue = parse_issue(EXAMPLE)
    titles = [section.title for section in issue.sections]
    assert titles[0].startswith("Deep Dive")
    assert {"Spotlights", "Headlines", "Readings", "Funding News"} <= set(titles)
    assert titles[-1].startswith("Bonus")
    deep_dive = issue.sections[0]
    assert len(deep_dive.subsections) >= 2
    assert issue.date == date(2026, 11, 30)
    assert issue.slug.startswith("2026-11-30-")
    assert issue.preheader
    assert issue.intro, "the intro and promo block come before the first section"
    assert issue.source == str(EXAMPLE)


def test_the_empty_category_of_the_example_is_left_out() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    assert "### 🧠 Neuromorphic Computing\n\n###" in text, "the example keeps one empty category"
    issue = parse_issue(EXAMPLE)
    headlines = next(s for s in issue.sections if s.title == "Headlines")
    assert "🧠 Neuromorphic Computing" not in [sub.title for sub in headlines.subsections]
    assert "🤖 AI" in [sub.title for sub in headlines.subsections]


def test_front_matter_fields_and_structure() -> None:
    issue = parse_issue_text(MINIMAL, source="weekly.md")
    assert issue.subject == "Inside a fast-growing AI lab"
    assert issue.preheader == "Culture, code and infrastructure"
    assert issue.date == date(2025, 7, 21)
    assert issue.slug == "2025-07-21-inside-a-fast-growing-ai-lab"
    (section,) = issue.sections
    assert section.title == "Deep Dive"
    assert section.line == 8  # file line of "## Deep Dive"
    assert [sub.title for sub in section.subsections] == ["Culture"]
    assert section.subsections[0].line == 11
    assert issue.links() == ["https://example.com/a"]


def test_slug_is_date_and_subject_or_subject_alone() -> None:
    assert make_slug("Inside a fast-growing AI lab", date(2026, 11, 30)) == (
        "2026-11-30-inside-a-fast-growing-ai-lab"
    )
    assert make_slug("🤖🦾 Behind the Scenes at OpenAI!", None) == "behind-the-scenes-at-openai"
    assert make_slug("Café über Ärger", None) == "cafe-uber-arger"
    assert make_slug("🤖🦾", None) == "issue"


def test_date_and_preheader_are_optional() -> None:
    issue = parse_issue_text(issue_with_front_matter("subject: Hello world\n"))
    assert issue.date is None
    assert issue.preheader == ""
    assert issue.slug == "hello-world"


def test_branding_overrides_come_from_front_matter() -> None:
    front = "subject: S\nbrand_name: Chip Notes\nbrand_color: '#aa3300'\n"
    front += "logo_url: https://cdn.example.com/logo.png\ntagline: Weekly\n"
    issue = parse_issue_text(issue_with_front_matter(front))
    assert issue.branding == {
        "brand_name": "Chip Notes",
        "brand_color": "#aa3300",
        "logo_url": "https://cdn.example.com/logo.png",
        "tagline": "Weekly",
    }


def test_empty_sub_sections_and_sections_are_left_out() -> None:
    body = """Intro.

## Full
Lead text.

### Empty one

### Kept
- item

## Only empty sub-sections

### Nothing here

### Nor here

## Totally empty

## Lead only
Just a paragraph.
"""
    issue = parse_issue_text(issue_with_front_matter("subject: S\n", body))
    assert [s.title for s in issue.sections] == ["Full", "Lead only"]
    assert [sub.title for sub in issue.sections[0].subsections] == ["Kept"]


def test_headings_inside_quotes_or_before_any_section_do_not_split() -> None:
    body = "### Before any section\nIntro.\n\n## Section\n> ## Quoted heading\n> text\n"
    issue = parse_issue_text(issue_with_front_matter("subject: S\n", body))
    assert any(t.type == "heading_open" for t in issue.intro)
    (section,) = issue.sections
    assert section.subsections == ()
    assert any(t.type == "blockquote_open" for t in section.tokens)


def test_windows_line_endings_and_a_byte_order_mark_are_accepted() -> None:
    text = "\ufeff" + MINIMAL.replace("\n", "\r\n")
    issue = parse_issue_text(text)
    assert issue.subject == "Inside a fast-growing AI lab"
    assert [s.title for s in issue.sections] == ["Deep Dive"]


def test_issue_error_is_a_newsletter_error() -> None:
    assert issubclass(IssueError, NewsletterError)


BAD_INPUT = [
    pytest.param("Just Markdown, no front matter.\n", 1, "missing front matter", id="no-front"),
    pytest.param("---\nsubject: S\nHello\n", 1, "never closed", id="unclosed"),
    pytest.param("---\n---\nHello\n", 1, "'subject' is required", id="empty-front"),
    pytest.param("---\nsubject: [a, b\n---\nHi\n", 2, "broken YAML", id="broken-yaml"),
    pytest.param("---\nsubject: a\n  b: c: d\n---\nHi\n", 3, "broken YAML", id="bad-indent"),
    pytest.param("---\n- subject\n- date\n---\nHi\n", 2, "must be 'key: value'", id="list"),
    pytest.param("---\njust text\n---\nHi\n", 2, "must be 'key: value'", id="scalar"),
    pytest.param(
        "---\nsubject: S\nauthor: Me\n---\nHi\n",
        3,
        "unknown front matter key author",
        id="unknown-key",
    ),
    pytest.param("---\nsubject: S\nsubject: T\n---\nHi\n", 3, "appears twice", id="duplicate"),
    pytest.param("---\npreheader: P\n---\nHi\n", 1, "no 'subject'", id="missing-subject"),
    pytest.param("---\nsubject: ''\n---\nHi\n", 2, "subject is empty", id="empty-subject"),
    pytest.param("---\nsubject:\n---\nHi\n", 2, "subject must be text", id="null-subject"),
    pytest.param("---\nsubject: [a]\n---\nHi\n", 2, "subject must be text", id="list-subject"),
    pytest.param("---\nsubject: S\ndate: 2026-13-45\n---\nHi\n", 3, "bad date", id="bad-date"),
    pytest.param("---\nsubject: S\ndate: next monday\n---\nHi\n", 3, "bad date", id="word-date"),
    pytest.param(
        "---\nsubject: S\ndate: 2026-11-30T08:00\n---\nHi\n", 3, "bad date", id="datetime"
    ),
    pytest.param(
        "---\nsubject: S\nbrand_color: red;x\n---\nHi\n", 3, "brand_color", id="bad-colour"
    ),
    pytest.param("---\nsubject: S\nlogo_url: logo.png\n---\nHi\n", 3, "logo_url", id="bad-logo"),
    pytest.param("---\nsubject: S\n---\n\n   \n", 4, "no content", id="no-content"),
]


@pytest.mark.parametrize(("text", "line", "message"), BAD_INPUT)
def test_bad_input_is_one_line_naming_file_and_line(text: str, line: int, message: str) -> None:
    with pytest.raises(IssueError) as caught:
        parse_issue_text(text, source="issues/weekly.md")
    error = str(caught.value)
    assert error.startswith(f"issues/weekly.md:{line}: "), error
    assert message in error
    assert "\n" not in error


def test_a_missing_file_is_an_issue_error(tmp_path: Path) -> None:
    with pytest.raises(IssueError, match=r"nope\.md: cannot read the issue"):
        parse_issue(tmp_path / "nope.md")


def test_a_file_that_is_not_utf8_is_an_issue_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.md"
    path.write_bytes("---\nsubject: Caf\xe9\n---\nHi\n".encode("latin-1"))
    with pytest.raises(IssueError, match=r"latin1\.md: not UTF-8"):
        parse_issue(path)


def test_links_are_listed_once_in_reading_order() -> None:
    body = (
        "[a](https://a.example) [b](https://b.example)\n\n## S\n"
        "| x | y |\n|---|---|\n| [c](https://c.example) | [a](https://a.example) |\n"
    )
    issue = parse_issue_text(issue_with_front_matter("subject: S\n", body))
    assert issue.links() == ["https://a.example", "https://b.example", "https://c.example"]
