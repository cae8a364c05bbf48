"""Shared fixtures: a working directory, settings, and a migrated database.

Set NEWSLETTER_TEST_DB=postgresql to run every database test against a throwaway PostgreSQL
cluster instead of SQLite (`.ci/run` does both).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser
from sqlalchemy import Engine

from mailer.core.settings import Settings
from subscribers.db import make_engine
from tests.fixtures.browser import chromium
from tests.fixtures.databases import Template
from tests.fixtures.services import PostgresCluster, RedisServer, postgres_cluster, redis_server

USE_POSTGRES = os.environ.get("NEWSLETTER_TEST_DB", "sqlite") == "postgresql"


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


@pytest.fixture(scope="session")
def migrated(pg: PostgresCluster | None, tmp_path_factory: pytest.TempPathFactory) -> Template:
    """The schema at head, built once per session (per xdist worker): tests get copies."""
    return Template.build(pg, tmp_path_factory.mktemp("template"))


@pytest.fixture
def database_url(workdir: Path, migrated: Template) -> str:
    """URL of an empty, migrated database of its own for each test."""
    return migrated.copy(workdir / "var" / "test.db")


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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Each test runs once per database it can tell apart (`scripts/test` runs both passes).

    Only the `pg` fixture (behind `database_url`, `engine`, `settings`) reads
    NEWSLETTER_TEST_DB, so a test without it sees the same thing in both passes: the
    PostgreSQL pass leaves it to the SQLite pass. A test marked `postgresql` brings its own
    cluster whatever the pass: the SQLite pass leaves it to the PostgreSQL pass.
    """
    keep, drop = [], []
    for item in items:
        reaches_pg = "pg" in getattr(item, "fixturenames", ())
        always_pg = item.get_closest_marker("postgresql") is not None
        wanted = (reaches_pg or always_pg) if USE_POSTGRES else not always_pg
        (keep if wanted else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
