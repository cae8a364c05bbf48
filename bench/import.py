"""Benchmark: generate a subscriber CSV, import it into a fresh database, count a segment.

    .venv/bin/python bench/import.py [--rows 1000000] [--db sqlite|postgresql|both]
                                     [--durable] [--keep DIR] [--reimport]

Prints the import's wall time and peak memory (of a child process per database, so one
database's peak does not hide the other's), then the time of
`segment count 'tags has "investors" and attr.country = "FR"' --list weekly`.
Targets (2 cores): SQLite <= 60 s and <= 300 MB (issue 3); PostgreSQL <= 30 s for 1M rows
and <= 200 MB (issue 15); count <= 1 s.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from multiprocessing import get_context
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchdb import add_db_option, database, kinds, side_by_side

from mailer.ops.migrate import upgrade
from subscribers.db import make_engine, transaction
from subscribers.importer import import_csv
from subscribers.store import find_list, segment_count

TAGS = ["investors", "press", "founders", "engineers", "vip", "alumni"]
ZONES = ["Europe/Paris", "Europe/Berlin", "America/New_York", "Asia/Tokyo", ""]
COUNTRIES = ["FR", "DE", "US", "JP", "GB", "ES", "IT", "NL"]
SEGMENT = 'tags has "investors" and attr.country = "FR"'


def generate(path: Path, rows: int, seed: int = 7) -> None:
    """Write the CSV row by row (constant memory)."""
    rng = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["email", "name", "tags", "timezone", "country", "score", "plan"])
        for i in range(rows):
            tags = ";".join(rng.sample(TAGS, rng.randint(0, 2)))
            writer.writerow(
                [
                    f"reader{i}@example{i % 97}.com",
                    f"Reader {i}",
                    tags,
                    rng.choice(ZONES),
                    rng.choice(COUNTRIES),
                    rng.randint(0, 100),
                    rng.choice(["free", "pro", "team"]),
                ]
            )


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="work in this folder and keep the files")
    parser.add_argument("--reimport", action="store_true", help="import the file a second time")
    add_db_option(parser)
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-import-"))
    folder.mkdir(parents=True, exist_ok=True)
    csv_path = folder / "subscribers.csv"
    print(f"nproc: {os.cpu_count()}  rows: {args.rows:,}  folder: {folder}")
    started = time.perf_counter()
    generate(csv_path, args.rows)
    size_mb = csv_path.stat().st_size / 1e6
    print(f"generated {size_mb:.1f} MB in {time.perf_counter() - started:.1f} s")
    figures: dict[str, dict[str, str]] = {}
    for kind in kinds(args.db):
        with database(kind, folder, args.durable) as url:
            print(f"--- {kind}")
            figures[kind] = measure(url, csv_path, args.rows, args.reimport)
    side_by_side(figures)


def measure(url: str, csv_path: Path, rows: int, reimport: bool) -> dict[str, str]:
    """Import (and re-import) in a child process, so its peak RSS is this database's alone."""
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    with get_context("spawn").Pool(1) as pool:
        figures: dict[str, str] = pool.apply(_imports, (url, csv_path, rows, reimport))
    figures.update(time_count(url))
    return figures


def _imports(url: str, csv_path: Path, rows: int, reimport: bool) -> dict[str, str]:
    engine = make_engine(url)
    figures: dict[str, str] = {}
    print(f"peak RSS before import: {peak_mb():.0f} MB")
    for run in ("import", "again")[: 2 if reimport else 1]:
        started, cpu = time.perf_counter(), cpu_seconds()
        result = import_csv(engine, csv_path, list_name="weekly", create_list=True)
        elapsed, cpu = time.perf_counter() - started, cpu_seconds() - cpu
        print(f"{run}: {elapsed:.1f} s wall, {cpu:.1f} s CPU ({rows / elapsed:,.0f} rows/s)")
        print(f"  {result.as_dict()}")
        print(f"  peak RSS so far: {peak_mb():.0f} MB  (load average {os.getloadavg()[0]:.1f})")
        figures[f"{run} wall s"] = f"{elapsed:.1f}"
        figures[f"{run} client CPU s"] = f"{cpu:.1f}"
        figures[f"{run} rows/s"] = f"{rows / elapsed:,.0f}"
    figures["peak RSS MB"] = f"{peak_mb():.0f}"
    figures["load average"] = f"{os.getloadavg()[0]:.1f}"
    engine.dispose()
    return figures


def time_count(url: str) -> dict[str, str]:
    """The count in-process (fresh connection, then again), and as a user runs the command."""
    engine = make_engine(url)
    with transaction(engine) as session:
        weekly = find_list(session, "weekly")
        assert weekly is not None
        for attempt in ("first", "again"):
            started = time.perf_counter()
            count = segment_count(session, SEGMENT, weekly.id)
            took = time.perf_counter() - started
            print(f"segment count query ({attempt}): {count:,} in {took:.3f} s")
    engine.dispose()
    command = [sys.executable, "-m", "mailer.cli.main", "segment", "count", SEGMENT]
    started = time.perf_counter()
    out = subprocess.run(
        [*command, "--list", "weekly"],
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    took = time.perf_counter() - started
    print(f"`newsletter segment count {SEGMENT!r} --list weekly` -> {out} in {took:.2f} s wall")
    return {"segment count s (CLI)": f"{took:.2f}"}


if __name__ == "__main__":
    main()
