"""The serve command: the web app under uvicorn."""

from __future__ import annotations

import typer

from mailer.cli.apps import app
from mailer.cli.common import database, settings


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port to listen on."),
    workers: int = typer.Option(1, "--workers", min=1, help="Web worker processes."),
    access_log: bool = typer.Option(False, "--access-log", help="Log every request."),
) -> None:
    """Serve the subscriber and reader pages, the webhook and /healthz."""
    import uvicorn

    from mailer.ops.logging import uvicorn_log_config
    from mailer.web.slow_clients import HeaderDeadline

    cfg = settings()  # a bad configuration fails here, in one line, not in each worker
    database(cfg).dispose()  # create or migrate before the workers start
    uvicorn.run(
        "mailer.web.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=access_log,
        # X-Forwarded-For only from the configured proxies (uvicorn alone trusts 127.0.0.1).
        proxy_headers=bool(cfg.FORWARDED_ALLOW_IPS),
        forwarded_allow_ips=cfg.FORWARDED_ALLOW_IPS or "",
        http=HeaderDeadline,
        server_header=False,
        log_config=uvicorn_log_config(cfg),
    )
