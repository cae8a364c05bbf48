"""The render command: an issue file to a preview (HTML and text), with its warnings."""

from __future__ import annotations

from pathlib import Path

import typer

from mailer.cli.apps import app
from mailer.cli.common import fail, settings
from mailer.cli.issue_input import base_dir, read_issue, stem


@app.command()
def render(
    issue: str = typer.Argument(..., help="The issue file (Markdown + front matter); - is stdin."),
    out: Path = typer.Option(Path("."), "--out", help="Directory for ISSUE.html and ISSUE.txt."),
    strict: bool = typer.Option(False, "--strict", help="Exit 1 when there is any warning."),
) -> None:
    """Render an issue once into DIR/ISSUE.html and DIR/ISSUE.txt, as a reader would see it
    (a sample name and links); print sizes, warnings and errors (errors exit 1)."""
    from mailer.core.errors import NewsletterError
    from mailer.issue.parse import parse_issue_text
    from mailer.issue.render import Branding, render_issue
    from mailer.issue.sample import preview

    cfg = settings()
    try:
        text, source = read_issue(issue)
        parsed = parse_issue_text(text, source, base_dir(source))
        rendered = render_issue(parsed, Branding.from_settings(cfg))
    except NewsletterError as exc:
        fail(str(exc))
    html, plain = preview(rendered.html, rendered.text, cfg.PUBLIC_BASE_URL)
    name = stem(source)
    try:
        out.mkdir(parents=True, exist_ok=True)
        html_path, text_path = out / f"{name}.html", out / f"{name}.txt"
        html_path.write_text(html, encoding="utf-8")
        text_path.write_text(plain, encoding="utf-8")
    except OSError as exc:
        fail(f"{out}: cannot write the rendered issue: {exc.strerror or exc}")
    for path, body in ((html_path, rendered.html), (text_path, rendered.text)):
        typer.echo(f"wrote {path} ({_kb(body)})")
    for warning in rendered.warnings:
        typer.echo(f"warning: {warning}", err=True)
    for error in rendered.errors:
        typer.echo(f"error: {error}", err=True)
    if rendered.errors:
        fail(f"{len(rendered.errors)} error(s): a send of this issue is refused until fixed")
    if strict and rendered.warnings:
        fail(f"{len(rendered.warnings)} warning(s) and --strict")


def _kb(body: str) -> str:
    return f"{len(body.encode('utf-8')) / 1024:.1f} KB"
