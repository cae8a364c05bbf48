"""An import collects garbage less often, and puts the process's thresholds back afterwards."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
from sqlalchemy import Engine

from subscribers.gc_scope import IMPORT_THRESHOLDS, fewer_collections
from subscribers.importer import import_csv


def test_the_thresholds_are_raised_inside_and_restored_after() -> None:
    before = gc.get_threshold()
    with fewer_collections():
        assert gc.get_threshold() == IMPORT_THRESHOLDS
    assert gc.get_threshold() == before


def test_overlapping_scopes_restore_only_when_the_last_ends() -> None:
    before = gc.get_threshold()
    first, second = fewer_collections(), fewer_collections()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)  # the other import (a thread of the web app) still runs
    assert gc.get_threshold() == IMPORT_THRESHOLDS
    second.__exit__(None, None, None)
    assert gc.get_threshold() == before


def test_an_error_inside_restores_the_thresholds() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), fewer_collections():
        raise RuntimeError("stop")
    assert gc.get_threshold() == before


def test_an_import_runs_with_fewer_collections(engine: Engine, workdir: Path) -> None:
    path = workdir / "people.csv"
    path.write_text("email\nann@example.com\nbob@example.com\n", encoding="utf-8")
    seen: list[tuple[int, int, int]] = []
    before = gc.get_threshold()
    result = import_csv(engine, path, progress=lambda _done, _size: seen.append(gc.get_threshold()))
    assert result.added == 2
    assert seen and set(seen) == {IMPORT_THRESHOLDS}
    assert gc.get_threshold() == before
