"""Shared by the bench scripts: `--db sqlite|postgresql|both`, the database, a side-by-side table.

PostgreSQL is a throwaway cluster started like the tests start theirs (tests/fixtures/services.py);
`--durable` keeps PostgreSQL's default fsync/synchronous_commit, as a production server runs.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.fixtures.services import postgres_cluster  # noqa: E402

KINDS = ("sqlite", "postgresql")
Figures = dict[str, str]  # measure -> value, one column of side_by_side
Measure = Callable[[argparse.Namespace, str, str], Figures]  # (args, url, workdir)


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


def add_server_options(parser: argparse.ArgumentParser, clients: int) -> None:
    """What the scripts that load `newsletter serve` share; --db and --durable included."""
    parser.add_argument("--clients", type=int, default=clients)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--database-url", default=None, help="an empty database instead of --db")
    parser.add_argument("--httpx", action="store_true", help="clients on httpx (slow client)")
    add_db_option(parser)


def each_database(args: argparse.Namespace, prefix: str, measure: Measure) -> None:
    """`measure(args, url, workdir)` on --database-url, or on each --db kind, then side by side."""
    figures: dict[str, Figures] = {}
    with tempfile.TemporaryDirectory(prefix=prefix) as workdir:
        if getattr(args, "database_url", None):
            measure(args, args.database_url, workdir)
            return
        for kind in kinds(args.db):
            with database(kind, Path(workdir), args.durable) as url:
                print(f"--- {kind}")
                figures[kind] = measure(args, url, workdir)
    side_by_side(figures)


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
