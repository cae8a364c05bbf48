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
    assert placeholders.UNSUBSCRIBE_URL in html.read_text(encoding="utf-8")
    assert placeholders.UNSUBSCRIBE_URL in text.read_text(encoding="utf-8")
    assert f"wrote build/2026-11-30-weekly.html ({html.stat().st_size / 1024:.1f} KB)" in (
        result.stdout
    )
    assert "2026-11-30-weekly.txt" in result.stdout
    assert "warning" not in result.output


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
