"""A real `newsletter serve` process on its own database, and tokens for each role."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import Engine, text

from mailer.accounts.principal import cli_principal
from mailer.accounts.tokens import create_token
from mailer.ops.migrate import upgrade
from subscribers.db import make_engine, transaction
from tests.fixtures.services import PostgresCluster, free_port, port_open, wait_for
from tests.fixtures.workers import NEWSLETTER, Process, service_env

_names = itertools.count()
# Settings a developer's shell may carry that would point the server somewhere else.
_CLEARED = ("REDIS_URL", "SENDGRID_API_KEY", "ADMIN_TOKEN", "SEND_RATE_PER_SECOND")


@dataclass
class Served:
    base: str
    engine: Engine
    url: str
    cwd: Path
    tokens: dict[str, str]  # role -> bearer secret
    process: Process

    def client(self, role: str | None = "editor") -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        return httpx.Client(base_url=f"{self.base}/api/v1", headers=headers, timeout=60)


def fresh_database(root: Path, pg: PostgresCluster | None) -> str:
    if pg is None:
        url = f"sqlite:///{root / 'var' / 'api.db'}"
    else:
        name = f"api{os.getpid()}_{next(_names)}"
        admin = make_engine(pg.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = pg.url(name)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


@contextmanager
def serve(root: Path, pg: PostgresCluster | None) -> Iterator[Served]:
    url = fresh_database(root, pg)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = service_env(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "api-test-key",
            "PUBLIC_BASE_URL": base,
            "POSTAL_ADDRESS": "1 Test Street, Paris",
            **dict.fromkeys(_CLEARED, ""),
        }
    )
    engine = make_engine(url)
    tokens = {}
    with transaction(engine) as session:
        for role in ("editor", "viewer"):
            tokens[role] = create_token(session, cli_principal(), f"test-{role}", role)
    argv = [NEWSLETTER, "serve", "--port", str(port)]
    process = Process("serve", argv, env, root).start()
    try:
        wait_for(lambda: port_open(port) or not process.alive(), timeout=60, what="serve")
        assert process.alive(), process.output()[-3000:]
        yield Served(base, engine, url, root, tokens, process)
    finally:
        process.stop()
        engine.dispose()
