"""Shared by the bench scripts: `--db sqlite|postgresql|both`, the database, a side-by-side table.

PostgreSQL is a throwaway cluster started like the tests start theirs (tests/fixtures/services.py);
`--durable` keeps PostgreSQL's default fsync/synchronous_commit, as a production server runs.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.fixtures.services import postgres_cluster  # noqa: E402

KINDS = ("sqlite", "postgresql")


def add_db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        choices=[*KINDS, "both"],
        default="both",
        help="the database to measure on (both: one after the other, then side by side)",
    )
    parser.add_argument(
        "--durable", action="store_true", help="PostgreSQL with fsync and synchronous_commit on"
    )


def kinds(choice: str) -> list[str]:
    return list(KINDS) if choice == "both" else [choice]


@contextmanager
def database(kind: str, folder: Path, durable: bool = False) -> Iterator[str]:
    """A fresh, empty database of that kind; yields its SQLAlchemy URL."""
    if kind == "sqlite":
        path = folder / "bench.db"
        for stale in folder.glob("bench.db*"):
            stale.unlink()
        yield f"sqlite:///{path}"
        return
    with postgres_cluster(durable=durable) as cluster:
        yield cluster.url()


def side_by_side(figures: dict[str, dict[str, str]]) -> None:
    """Print one row per measure, one column per database."""
    columns = list(figures)
    measures: list[str] = []
    for values in figures.values():
        measures += [m for m in values if m not in measures]
    width = max(len(m) for m in measures) if measures else 10
    print()
    print(f"{'':<{width}}  " + "  ".join(f"{c:>14}" for c in columns))
    for measure in measures:
        cells = [figures[c].get(measure, "-") for c in columns]
        print(f"{measure:<{width}}  " + "  ".join(f"{cell:>14}" for cell in cells))
    print(f"(nproc {_nproc()}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {_commit()})")


def _nproc() -> int:
    import os

    return len(os.sched_getaffinity(0))


def _commit() -> str:
    out = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
    )
    return out.stdout.strip() or "unknown"
