"""`newsletter demo` runs the whole path with zero configuration, into the outbox."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from mailer.cli.main import app


def test_demo_sends_the_example_issue_to_the_outbox_and_skips_leavers(workdir: Path) -> None:
    result = CliRunner().invoke(app, ["demo"])
    assert result.exit_code == 0, result.output
    messages = sorted((workdir / "var" / "outbox").glob("*.eml"))
    assert len(messages) == 21  # 25 people, 2 unsubscribed before, 2 left during the send
    assert "21 sent, 2 skipped" in result.output
    first = messages[0].read_text()
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in first
    assert "http://127.0.0.1:8000/u/" in first
