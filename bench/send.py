"""Benchmark the whole send path: N subscribers through Redis and two Celery worker processes
to the local SendGrid server, timed from `newsletter send` to the last batch accepted.

    .venv/bin/python bench/send.py --subscribers 200000                 # both, side by side
    .venv/bin/python bench/send.py --subscribers 1000000 --db postgresql [--durable]

Prints recipients per second, wall time, the freeze, and peak RSS per worker. Each worker is
`newsletter worker --pool solo` (tests/fixtures/workers.py), the operator's command: one process
that takes tasks from Redis and runs them, so its VmHWM (the kernel's high-water mark of its
resident set, /proc/PID/status) is the whole worker's peak, start-up included, with the shared
libraries counted whole; PSS at the end splits those between the processes mapping them. (With
`--pool prefork` a parent consumes and forked children run the tasks; each child's RSS counts
the pages it still shares with the parent.) Targets (issue 15, 2 cores): >= 25,000
recipients/s end to end at 1M on PostgreSQL with 2 workers, freeze of 1M <= 5 s, every worker
<= 100 MB.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from benchdb import add_db_option, database, kinds, side_by_side  # noqa: E402
from sqlalchemy import Engine, func, select, text  # noqa: E402

from mailer.core.models import Batch, Send  # noqa: E402
from mailer.ops.migrate import upgrade  # noqa: E402
from subscribers.db import make_engine  # noqa: E402
from tests.fixtures.audience import bulk_audience  # noqa: E402
from tests.fixtures.fake_sendgrid import FakeSendGrid, fake_sendgrid  # noqa: E402
from tests.fixtures.services import redis_server  # noqa: E402
from tests.fixtures.workers import NEWSLETTER, Worker, service_env, workers  # noqa: E402

ISSUE = REPO / "examples" / "issues" / "2026-11-30-weekly.md"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    add_db_option(parser)
    args = parser.parse_args()
    figures: dict[str, dict[str, str]] = {}
    for kind in kinds(args.db):
        print(f"--- {kind}")
        figures[kind] = measure(kind, args.subscribers, args.workers, args.durable)
    side_by_side(figures)


def measure(kind: str, subscribers: int, worker_count: int, durable: bool) -> dict[str, str]:
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="nl-bench-")))
        url = stack.enter_context(database(kind, work, durable))
        engine = make_engine(url)
        upgrade(engine)
        started = time.perf_counter()
        bulk_audience(engine, subscribers)
        print(f"seeded {subscribers:,} subscribers in {time.perf_counter() - started:.1f}s")
        if kind == "postgresql":  # a database that has lived a while has statistics
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("ANALYZE"))
        redis = stack.enter_context(redis_server())
        sg = stack.enter_context(fake_sendgrid(record="none"))
        env = {
            "DATABASE_URL": url,
            "REDIS_URL": redis.url,
            "SENDGRID_API_KEY": sg.api_key,
            "SENDGRID_API_HOST": sg.url,
            "SECRET_KEY": "bench-secret",
            "PUBLIC_BASE_URL": "https://news.example.com",
            "POSTAL_ADDRESS": "1 Bench Street, Paris",
        }
        pool = stack.enter_context(workers(env, work, count=worker_count))
        figures = run(engine, env, work, pool, sg, subscribers)
        engine.dispose()
        return figures


def run(
    engine: Engine, env: dict[str, str], work: Path, pool: list[Worker], sg: FakeSendGrid, n: int
) -> dict[str, str]:
    cpu0 = {w.name: _cpu_seconds(w.pid) for w in pool}
    cpu0["sg"] = _cpu_seconds(sg.process.pid)
    cpu0["db"] = _database_cpu(engine)
    t0 = time.perf_counter()
    out = subprocess.run(
        [NEWSLETTER, "send", str(ISSUE), "--list", "weekly", "--yes"],
        env=service_env(env),
        cwd=work,
        capture_output=True,
        text=True,
    )
    if out.returncode:
        sys.exit(f"newsletter send failed ({out.returncode}): {out.stderr.strip()}")
    send_id = int(out.stdout.split()[0])
    t_cli = time.perf_counter() - t0
    while _state(engine, send_id) not in ("done", "failed"):
        time.sleep(0.1)
    wall = time.perf_counter() - t0
    sent, started, finished = _figures(engine, send_id)
    stats = sg.stats()
    print(f"nproc={os.cpu_count()} subscribers={n:,} db={engine.dialect.name}")
    print(f"newsletter send returned after {t_cli:.2f}s (parse + render + store)")
    delivery = (finished - started).total_seconds()
    print(f"start of the send (freeze) -> last batch recorded: {delivery:.2f}s")
    print(f"wall time send -> last batch accepted: {wall:.2f}s")
    print(f"recipients sent: {sent:,}  => {sent / wall:,.0f} recipients/s end to end")
    print(
        f"local SendGrid: {stats['accepted_requests']} requests accepted, "
        f"{stats['recipients']:,} recipients, {stats['duplicate_recipients']} duplicates"
    )
    freeze, _span = _batch_timeline(engine, send_id, started)
    figures = {
        "recipients sent": f"{sent:,}",
        "duplicates": str(stats["duplicate_recipients"]),
        "wall s (CLI -> done)": f"{wall:.1f}",
        "recipients/s end to end": f"{sent / wall:,.0f}",
        "freeze s (start -> 1st claim)": f"{freeze:.1f}",
        "start -> done s": f"{delivery:.1f}",
    }
    for worker in pool:
        cpu = _cpu_seconds(worker.pid) - cpu0[worker.name]
        rss, pss = worker.peak_rss_mb(), worker.pss_mb()
        print(
            f"worker {worker.name}: peak RSS {rss:.1f} MB (PSS now {pss:.1f} MB), "
            f"CPU {cpu:.1f}s during the send"
        )
        figures[f"{worker.name} peak RSS MB"] = f"{rss:.1f}"
        figures[f"{worker.name} PSS MB at the end"] = f"{pss:.1f}"
        figures[f"{worker.name} CPU s"] = f"{cpu:.1f}"
    sg_cpu = _cpu_seconds(sg.process.pid) - cpu0["sg"]
    print(f"local SendGrid server: CPU {sg_cpu:.1f}s during the send")
    figures["SendGrid server CPU s"] = f"{sg_cpu:.1f}"
    if engine.dialect.name == "postgresql":
        db_cpu = _database_cpu(engine) - cpu0["db"]
        print(f"PostgreSQL (all its processes): CPU {db_cpu:.1f}s during the send")
        figures["PostgreSQL CPU s"] = f"{db_cpu:.1f}"
    figures["load average"] = f"{os.getloadavg()[0]:.1f}"
    return figures


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (and its reaped children) from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(v) for v in fields[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")


def _database_cpu(engine: Engine) -> float:
    """CPU of the PostgreSQL server: its postmaster (with the backends it reaped) and the
    processes still running under it. 0 for SQLite, which runs inside the workers."""
    if engine.dialect.name != "postgresql":
        return 0.0
    with engine.connect() as conn:
        data = Path(str(conn.scalar(text("SHOW data_directory"))))
    postmaster = int((data / "postmaster.pid").read_text().split()[0])
    total = _cpu_seconds(postmaster)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        if int(fields[1]) == postmaster:
            total += sum(int(v) for v in fields[11:13]) / os.sysconf("SC_CLK_TCK")
    return total


def _batch_timeline(engine: Engine, send_id: int, started: datetime) -> tuple[float, float]:
    """Per worker process: batches sent, and mean time from request start to recorded answer;
    returns the freeze (send started -> first claim) and the span of the requests."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(Batch.worker_id, Batch.requested_at, Batch.finished_at).where(
                Batch.send_id == send_id, Batch.state == "sent"
            )
        ).all()
    per: dict[str, list[float]] = {}
    rows = [r for r in rows if r[1] is not None and r[2] is not None]
    for worker_id, requested, finished in rows:
        key = ":".join(str(worker_id).split(":")[:2])
        per.setdefault(key, []).append((finished - requested).total_seconds())
    span = max(r[2] for r in rows) - min(r[1] for r in rows)
    print(f"first request -> last answer recorded: {span.total_seconds():.2f}s")
    with engine.connect() as conn:
        first = select(func.min(Batch.claimed_at)).where(Batch.send_id == send_id)
        first_claim = conn.scalar(first)
    freeze = (first_claim - started).total_seconds() if first_claim else 0.0
    for key, spans in sorted(per.items()):
        mean = sum(spans) / len(spans) * 1000
        print(f"  {key}: {len(spans)} batches, request -> recorded {mean:.0f} ms on average")
    return freeze, span.total_seconds()


def _state(engine: Engine, send_id: int) -> str:
    with engine.connect() as conn:
        return str(conn.scalar(select(Send.state).where(Send.id == send_id)))


def _figures(engine: Engine, send_id: int) -> tuple[int, datetime, datetime]:
    with engine.connect() as conn:
        sent = conn.scalar(select(func.sum(Batch.sent_count)).where(Batch.send_id == send_id))
        started, finished = conn.execute(
            select(Send.started_at, Send.finished_at).where(Send.id == send_id)
        ).one()
    return int(sent or 0), started, finished


if __name__ == "__main__":
    main()
