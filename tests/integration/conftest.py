"""Fixtures of the process-level tests: one real `newsletter serve` per test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fixtures.services import PostgresCluster
from tests.integration.api_support import Served, serve


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, pg: PostgresCluster | None
) -> Iterator[Served]:
    with serve(tmp_path_factory.mktemp("api"), pg) as server:
        yield server
