"""Small steps the security tests share: submit a form the way a browser would."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi.testclient import TestClient
from httpx import Response

from mailer.readers.links import Purpose
from tests.fixtures.services import free_port, port_open, wait_for
from tests.unit.web.conftest import World, form_token


def forward(
    client: TestClient, world: World, emails: str, subscriber_id: int | None = None
) -> Response:
    path = world.path(Purpose.FORWARD, subscriber_id)
    data = {"csrf_token": form_token(client, path), "emails": emails, "note": ""}
    return client.post(path, data=data)


def signup(client: TestClient, email: str, **extra: str) -> Response:
    data = {"csrf_token": form_token(client, "/subscribe"), "email": email, **extra}
    return client.post("/subscribe", data=data)


@contextmanager
def serving(**env: str) -> Iterator[int]:
    """`newsletter serve` as a real uvicorn process (its port), with these extra settings."""
    port = free_port()
    command = [sys.executable, "-m", "mailer.cli.main", "serve", "--port", str(port)]
    server = subprocess.Popen(command, env={**os.environ, **env}, cwd=os.getcwd())
    try:
        wait_for(lambda: port_open(port), what="newsletter serve")
        yield port
    finally:
        server.terminate()
        server.wait(15)


def csrf_field(page: str) -> str:
    marker = 'name="csrf_token" value="'
    start = page.index(marker) + len(marker)
    return page[start : page.index('"', start)]
