"""Shared fixtures: a working directory, settings, and a migrated database.

Set NEWSLETTER_TEST_DB=postgresql to run every database test against a throwaway PostgreSQL
cluster instead of SQLite (`.ci/run` does both).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser
from sqlalchemy import Engine, text

from mailer.core.settings import Settings
from mailer.ops.migrate import upgrade
from subscribers.db import make_engine
from tests.fixtures.browser import chromium
from tests.fixtures.dbtemplate import migrated_sqlite
from tests.fixtures.services import PostgresCluster, RedisServer, postgres_cluster, redis_server

USE_POSTGRES = os.environ.get("NEWSLETTER_TEST_DB", "sqlite") == "postgresql"
_db_names = itertools.count()


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh working directory with no stray configuration from the environment."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name in Settings.model_fields:
            monkeypatch.delenv(name)
    return tmp_path


@pytest.fixture(scope="session")
def pg() -> Iterator[PostgresCluster | None]:
    if not USE_POSTGRES:
        yield None
        return
    with postgres_cluster() as cluster:
        yield cluster


@pytest.fixture
def database_url(workdir: Path, pg: PostgresCluster | None) -> str:
    """URL of an empty, migrated database of its own for each test."""
    if pg is None:
        return migrated_sqlite(workdir / "var" / "test.db")
    name = f"t{os.getpid()}_{next(_db_names)}"
    admin = make_engine(pg.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = pg.url(name)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def settings(workdir: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings for a test, also exported to the environment for child processes and the CLI."""
    values = {
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key",
        "PUBLIC_BASE_URL": "https://news.example.test",
        "POSTAL_ADDRESS": "1 Test Street, 75001 Paris, France",
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def redis() -> Iterator[RedisServer]:
    with redis_server() as server:
        yield server


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with chromium() as instance:
        yield instance
