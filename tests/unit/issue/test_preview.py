"""The preview service: the editor's view of Markdown, with errors and warnings by line."""

from __future__ import annotations

from mailer.issue.branding import Branding
from mailer.issue.lint import GMAIL_CLIP_BYTES
from mailer.issue.preview import Note, Reader, frame_document, preview

GOOD = """---
subject: Issue 9
preheader: The week in short
---
Hello -subscriber_name-.

## News

A [link](https://example.com/a) and ![](https://example.com/i.png) here.
"""


def test_preview_fills_reader_links_and_name() -> None:
    result = preview(GOOD, Branding(), Reader(name="Zoë", base_url="https://news.example"))
    assert result.error is None
    assert result.subject == "Issue 9"
    assert "https://news.example/u/preview" in result.html
    assert "https://news.example/u/preview" in result.text
    assert "-unsubscribe_url-" not in result.html and "[[newsletter:banner]]" not in result.text
    assert 0 < result.size_bytes < GMAIL_CLIP_BYTES and not result.clipped


def test_warnings_carry_the_markdown_line() -> None:
    result = preview(GOOD, Branding(), Reader(), source="x.md")
    alt = [note for note in result.warnings if "alt text" in note.message]
    assert alt == [Note(alt[0].message, 9)]
    assert not alt[0].message.startswith("x.md")
    # The postal-address warning belongs to no line.
    assert any(note.line is None and "POSTAL_ADDRESS" in note.message for note in result.warnings)


def test_a_markdown_error_is_an_answer_not_an_exception() -> None:
    result = preview("---\nsubject: A\ncolour: red\n---\nText", Branding(), Reader(), source="x.md")
    assert result.error is not None
    assert result.error.line == 3 and "unknown front matter key colour" in result.error.message
    summary = result.summary()
    assert summary["ok"] is False and summary["error"]["line"] == 3
    assert "line 3" in frame_document(result, "phone")


def test_dark_frame_inverts_the_email_and_phone_frame_does_not() -> None:
    result = preview(GOOD, Branding(), Reader())
    assert "invert(1)" in frame_document(result, "dark")
    assert "invert(1)" not in frame_document(result, "phone")
    assert frame_document(result, "desktop") == result.html


def test_a_huge_issue_is_marked_clipped() -> None:
    body = "\n\n".join(f"Paragraph {i} " + "words " * 60 for i in range(400))
    result = preview(f"---\nsubject: Big\n---\n{body}\n", Branding(), Reader())
    assert result.clipped and result.summary()["clipped"] is True
    assert any("102 KB" in note.message for note in result.warnings)
