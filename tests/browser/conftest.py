"""The editor workspace's browser tests share one site: `newsletter serve` + a Celery worker +
the local SendGrid server, with an owner, an editor and a viewer, a list of three readers in
three time zones, and a webhook key pair that signs event posts as SendGrid does."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from mailer.accounts.principal import cli_principal
from mailer.accounts.users import add_user
from mailer.core.settings import Settings
from subscribers.db import transaction
from subscribers.models import MailingList, Subscriber
from tests.fixtures.fake_sendgrid import FakeSendGrid, fake_sendgrid
from tests.fixtures.services import RedisServer, free_port, port_open, wait_for
from tests.fixtures.workers import service_env, workers
from tests.unit.events.helpers import Signer
from tests.unit.web.conftest import add_subscriber

PASSWORD = "a long enough passphrase"


@dataclass
class Site:
    url: str
    sendgrid: FakeSendGrid
    webhook: Signer  # signs event posts as SendGrid does; the server has its public key


@pytest.fixture
def site(settings: Settings, engine: Engine, redis: RedisServer, workdir: Path) -> Iterator[Site]:
    with transaction(engine) as session:
        session.add(MailingList(name="weekly", title="Weekly"))
        for role in ("owner", "editor", "viewer"):
            add_user(session, cli_principal(), f"{role}@example.com", role, PASSWORD)
    weekly = 1
    for n, zone in enumerate(("Europe/Paris", "America/New_York", "Asia/Tokyo")):
        add_subscriber(engine, f"reader{n}@example.com", f"Reader {n}", list_id=weekly)
        with transaction(engine) as session:
            session.get_one(Subscriber, n + 1).timezone = zone
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    signer = Signer()
    with fake_sendgrid(record="full") as sendgrid:
        env = service_env(
            {
                "SENDGRID_API_KEY": sendgrid.api_key,
                "SENDGRID_API_HOST": sendgrid.url,
                "PUBLIC_BASE_URL": url,
                "REDIS_URL": redis.url,
                "SENDGRID_WEBHOOK_PUBLIC_KEY": signer.public_key,
                "DATABASE_URL": settings.DATABASE_URL,
                "SECRET_KEY": settings.SECRET_KEY,
            }
        )
        command = [sys.executable, "-m", "mailer.cli.main", "serve", "--port", str(port)]
        server = subprocess.Popen(command, env=env, cwd=workdir)
        try:
            with workers(env, workdir, count=1):
                wait_for(lambda: port_open(port), what="newsletter serve")
                yield Site(url, sendgrid, signer)
        finally:
            server.terminate()
            server.wait(15)


def sign_in(page: Page, site: Site, role: str, path: str = "/admin") -> None:
    page.goto(site.url + path)
    expect(page).to_have_url(f"{site.url}/admin/login?next={path}")
    page.get_by_label("Email address").fill(f"{role}@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(site.url + path)
