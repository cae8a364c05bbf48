"""The render command: an issue file to HTML and text, with its warnings."""

from __future__ import annotations

from pathlib import Path

import typer

from mailer.cli.apps import app
from mailer.cli.common import fail, settings


@app.command()
def render(
    issue: Path = typer.Argument(..., help="The issue file (Markdown with YAML front matter)."),
    out: Path = typer.Option(Path("."), "--out", help="Directory for ISSUE.html and ISSUE.txt."),
) -> None:
    """Render an issue once into DIR/ISSUE.html and DIR/ISSUE.txt; print sizes and warnings."""
    from mailer.issue.parse import IssueError
    from mailer.issue.render import Branding, render_file

    cfg = settings()
    try:
        rendered = render_file(issue, Branding.from_settings(cfg))
    except IssueError as exc:
        fail(str(exc))
    try:
        out.mkdir(parents=True, exist_ok=True)
        html_path, text_path = out / f"{issue.stem}.html", out / f"{issue.stem}.txt"
        html_path.write_text(rendered.html, encoding="utf-8")
        text_path.write_text(rendered.text, encoding="utf-8")
    except OSError as exc:
        fail(f"{out}: cannot write the rendered issue: {exc.strerror or exc}")
    for path, body in ((html_path, rendered.html), (text_path, rendered.text)):
        typer.echo(f"wrote {path} ({_kb(body)})")
    for warning in rendered.warnings:
        typer.echo(f"warning: {warning}", err=True)


def _kb(body: str) -> str:
    return f"{len(body.encode('utf-8')) / 1024:.1f} KB"
