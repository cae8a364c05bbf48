"""`newsletter render ISSUE.md [--out DIR]`: files, sizes, warnings and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from mailer.cli.main import app
from mailer.issue import placeholders

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "issues" / "2026-11-30-weekly.md"


@pytest.fixture
def runner(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("SECRET_KEY", "test-secret-key")
    monkeypatch.setenv("POSTAL_ADDRESS", "1 Test Street, 75001 Paris, France")
    return CliRunner()


def test_render_writes_html_and_text_into_the_out_dir(runner: CliRunner, workdir: Path) -> None:
    result = runner.invoke(app, ["render", str(EXAMPLE), "--out", "build"])
    assert result.exit_code == 0, result.output
    html = workdir / "build" / "2026-11-30-weekly.html"
    text = workdir / "build" / "2026-11-30-weekly.txt"
    assert "wrote build/2026-11-30-weekly.html (" in result.stdout
    assert "2026-11-30-weekly.txt" in result.stdout
    # The preview is what a reader sees: sample links and name, no tag, no banner slot.
    for body in (html.read_text(encoding="utf-8"), text.read_text(encoding="utf-8")):
        for tag in (*placeholders.ALL, placeholders.TEXT_BANNER_MARKER, "newsletter:banner"):
            assert tag not in body
        assert "http://127.0.0.1:8000/subscribe#unsubscribe-preview" in body
    # The seed issue's one empty category is the only warning, and says where and what to do.
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert warnings == [
        f"warning: {EXAMPLE}:106: sub-heading '🧠 Neuromorphic Computing' has nothing under it "
        "and is left out of the email: add content or remove the heading (and any intro line "
        "that announces it)"
    ]


def test_render_defaults_to_the_current_directory(runner: CliRunner, workdir: Path) -> None:
    issue = workdir / "short.md"
    issue.write_text("---\nsubject: Short\npreheader: P\n---\nHello.\n", encoding="utf-8")
    result = runner.invoke(app, ["render", "short.md"])
    assert result.exit_code == 0, result.output
    assert (workdir / "short.html").is_file()
    assert (workdir / "short.txt").read_text(encoding="utf-8").count("Hello.") == 1


def test_render_prints_each_warning(
    runner: CliRunner, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("POSTAL_ADDRESS")
    issue = workdir / "w.md"
    issue.write_text(
        "---\nsubject: S\n---\n![](https://img.example/a.png){width=300}\n", encoding="utf-8"
    )
    result = runner.invoke(app, ["render", "w.md"])
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 3, result.stderr
    assert any("w.md:4: image without alt text" in line for line in warnings)
    assert any("POSTAL_ADDRESS" in line for line in warnings)
    assert any("no preheader" in line for line in warnings)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("---\nsubject: S\nfoo: 1\n---\nHi\n", "error: bad.md:3: unknown front matter key foo"),
        ("---\nsubject: S\ndate: 2026-02-30\n---\nHi\n", "error: bad.md:3: bad date"),
        ("---\ntitle: [\n---\nHi\n", "error: bad.md:2: broken YAML"),
        ("---\ndate: 2026-01-01\n---\nHi\n", "error: bad.md:1: front matter has no 'subject'"),
        ("No front matter\n", "error: bad.md:1: missing front matter"),
    ],
)
def test_bad_input_is_one_line_and_exit_1(
    runner: CliRunner, workdir: Path, content: str, expected: str
) -> None:
    (workdir / "bad.md").write_text(content, encoding="utf-8")
    result = runner.invoke(app, ["render", "bad.md", "--out", "out"])
    assert result.exit_code == 1
    assert result.stderr.startswith(expected), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (workdir / "out").exists(), "nothing is written for a bad issue"


def test_a_missing_issue_file_is_one_line_and_exit_1(runner: CliRunner) -> None:
    result = runner.invoke(app, ["render", "missing.md"])
    assert result.exit_code == 1
    assert (
        result.stderr.strip()
        == "error: missing.md: cannot read the issue: No such file or directory"
    )


def test_render_reads_standard_input_and_strict_fails_on_warnings(
    runner: CliRunner, workdir: Path
) -> None:
    issue = "---\nsubject: Piped\n---\nHello from stdin.\n"  # no preheader: one warning
    result = runner.invoke(app, ["render", "-", "--out", "out"], input=issue)
    assert result.exit_code == 0, result.output
    assert "Hello from stdin." in (workdir / "out" / "issue.txt").read_text(encoding="utf-8")
    strict = runner.invoke(app, ["render", "-", "--out", "out", "--strict"], input=issue)
    assert strict.exit_code == 1
    assert strict.stderr.strip().endswith("error: 1 warning(s) and --strict")


BROKEN = [
    ("[T] (https://a.example/x)", "x.md:5: a space between ']' and '(' shows the link as text"),
    ("##Headlines", "x.md:5: ##Headlines is not a heading: write ## Headlines (with a space)"),
    ("::: promoo\nHi\n:::", "x.md:5: unknown block '::: promoo' shows as text: did you mean"),
    ("[Open](https://a.example/a b)", "x.md:5: a space inside a link address breaks the link"),
    ("[Soon](https://TODO)", "x.md:5: link 'https://TODO' looks like a placeholder"),
    ("Hi {{ name }}", "x.md:5: {{ name }} is a merge tag of another tool"),
    ("Hi *|FNAME|*", "x.md:5: *|FNAME|* is a merge tag of another tool"),
    ("Intro.\n\n## Empty", "x.md:7: section 'Empty' has nothing under it"),
]


@pytest.mark.parametrize(("markdown", "expected"), BROKEN)
def test_broken_markdown_is_a_warning_with_file_line_and_fix(
    runner: CliRunner, workdir: Path, markdown: str, expected: str
) -> None:
    (workdir / "x.md").write_text(f"---\nsubject: S\npreheader: P\n---\n{markdown}\n")
    result = runner.invoke(app, ["render", "x.md", "--out", "out"])
    assert result.exit_code == 0, result.output
    assert f"warning: {expected}" in result.stderr


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        ("[Broken](https://b.example/x", "x.md:5: unclosed link '[Broken](': close it with ')'"),
        ("[Files](ftp://f.example/a)", "x.md:5: link 'ftp://f.example/a' is not http(s) or mailto"),
    ],
)
def test_unclosed_and_non_http_links_are_errors(
    runner: CliRunner, workdir: Path, markdown: str, expected: str
) -> None:
    (workdir / "x.md").write_text(f"---\nsubject: S\npreheader: P\n---\n{markdown}\n")
    result = runner.invoke(app, ["render", "x.md", "--out", "out"])
    assert result.exit_code == 1
    assert f"error: {expected}" in result.stderr
    assert "a send of this issue is refused until fixed" in result.stderr


def test_a_yaml_error_says_to_quote_the_subject(runner: CliRunner, workdir: Path) -> None:
    (workdir / "y.md").write_text("---\nsubject: Q3: the numbers\n---\nHi\n", encoding="utf-8")
    result = runner.invoke(app, ["render", "y.md"])
    assert result.exit_code == 1
    assert "error: y.md:2: broken YAML in front matter: mapping values are not allowed here" in (
        result.stderr
    )
    assert 'must be quoted, e.g. subject: "Q3: the numbers"' in result.stderr
