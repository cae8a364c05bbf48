"""The preview command: a local page that follows an issue file as the editor saves it."""

from __future__ import annotations

from pathlib import Path

import typer

from mailer.cli.apps import app
from mailer.cli.common import fail, settings

# Never reachable from the network: the page needs no sign-in because only this machine sees it.
HOST = "127.0.0.1"


@app.command()
def preview(
    issue: Path = typer.Argument(..., help="The issue file (Markdown with YAML front matter)."),
    port: int = typer.Option(8025, "--port", min=1, max=65535, help="Port on 127.0.0.1."),
) -> None:
    """Show ISSUE.md at phone and desktop widths, dark and as text, with warnings; follow saves."""
    import uvicorn

    from mailer.ops.logging import uvicorn_log_config
    from mailer.web.preview_app import create_preview_app  # the web stack only when used

    cfg = settings()
    if not issue.is_file():
        fail(f"{issue}: no such file")
    typer.echo(f"preview of {issue} at http://{HOST}:{port}/ (Ctrl+C to stop)")
    uvicorn.run(
        create_preview_app(issue.resolve(), cfg),
        host=HOST,
        port=port,
        access_log=False,
        server_header=False,
        log_config=uvicorn_log_config(cfg),
    )
