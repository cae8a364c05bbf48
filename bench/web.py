"""Benchmark: RFC 8058 one-click unsubscribe POSTs against `newsletter serve`.

    .venv/bin/python bench/web.py [--requests 20000] [--clients 100] [--workers 2]
        [--rate 1000] [--db sqlite|postgresql|both] [--durable] [--database-url URL]

Creates a fresh database (SQLite in a temporary directory unless --database-url names an empty
PostgreSQL database) with one subscriber per request, starts `newsletter serve --workers N` as
a subprocess, and has `--clients` concurrent asyncio/httpx clients POST
`List-Unsubscribe=One-Click` to each subscriber's own /u/ link: every request is a real
unsubscribe (one transaction). Prints requests/s and latency percentiles.

Two loads: closed loop (default; each client sends its next request when the last answers, so
it measures the most the server takes) and, with `--rate R`, open loop (requests start on a
fixed schedule of R per second spread over the clients, and latency is counted from the
scheduled start, so a stall is not hidden). The client runs on the same cores as the server.
Targets (issue 5, 2 cores): >= 1,000 requests/s, p99 <= 50 ms with 100 concurrent clients.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Protocol

import httpx
from sqlalchemy import insert

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from benchdb import add_db_option, database, kinds, side_by_side  # noqa: E402

from mailer.ops.migrate import upgrade  # noqa: E402
from mailer.readers.links import Purpose, Signer, Token  # noqa: E402
from subscribers.db import make_engine, transaction  # noqa: E402
from subscribers.models import MailingList, Membership, Subscriber  # noqa: E402
from tests.fixtures.services import free_port, port_open, wait_for  # noqa: E402

SECRET = "bench-secret-key"
BODY = b"List-Unsubscribe=One-Click"
HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}


def populate(url: str, count: int) -> list[str]:
    """One list and `count` subscribed readers; their one-click paths."""
    engine = make_engine(url)
    upgrade(engine)
    with transaction(engine) as session:
        weekly = MailingList(name=f"bench-{time.time_ns()}")
        session.add(weekly)
        session.flush()
        list_id = weekly.id
        first = 1 + (session.query(Subscriber).count())
    ids = range(first, first + count)
    with engine.begin() as conn:
        conn.execute(
            insert(Subscriber),
            [
                # The link key is the id here, so the bench can sign the links it then opens.
                {
                    "id": i,
                    "email": f"r{i}@example.com",
                    "email_norm": f"r{i}@example.com",
                    "link_key": i,
                }
                for i in ids
            ],
        )
        conn.execute(insert(Membership), [{"list_id": list_id, "subscriber_id": i} for i in ids])
    engine.dispose()
    signer = Signer(SECRET)
    return [f"/u/{signer.make(Token(Purpose.UNSUBSCRIBE, i, list_id, 1, key=i))}" for i in ids]


def start_server(url: str, port: int, workers: int, workdir: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": SECRET,
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
    }
    env.pop("REDIS_URL", None)
    command = [sys.executable, "-m", "mailer.cli.main", "serve", "--port", str(port)]
    command += ["--workers", str(workers)]
    log = open(Path(workdir) / "serve.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(command, env=env, cwd=workdir, stderr=log)
    wait_for(lambda: port_open(port), timeout=60, what="newsletter serve")
    return process


class Connection(Protocol):
    async def post(self, path: str) -> int: ...
    async def close(self) -> None: ...


class HttpxConnection:
    """One keep-alive connection through httpx (its pool costs ~1 ms of client CPU a request)."""

    def __init__(self, base: str) -> None:
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        self._http = httpx.AsyncClient(base_url=base, limits=limits, timeout=30.0)

    async def post(self, path: str) -> int:
        response = await self._http.post(path, content=BODY, headers=HEADERS)
        return response.status_code

    async def close(self) -> None:
        await self._http.aclose()


class RawConnection:
    """One keep-alive HTTP/1.1 connection on asyncio streams, like wrk: the client stays cheap
    so the figure is the server's, not the load generator's."""

    def __init__(self, host: str, port: int) -> None:
        self._host, self._port = host, port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def post(self, path: str) -> int:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self._host, self._port)
        assert self._reader is not None
        self._writer.write(
            f"POST {path} HTTP/1.1\r\nHost: {self._host}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(BODY)}\r\n\r\n".encode()
            + BODY
        )
        head = await self._reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = re.search(rb"(?i)content-length: *(\d+)", head)
        await self._reader.readexactly(int(length.group(1)) if length else 0)
        return status

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()


def _connect(base: str, raw: bool) -> Connection:
    if raw:
        host, port = base.removeprefix("http://").split(":")
        return RawConnection(host, int(port))
    return HttpxConnection(base)


async def closed_loop(
    base: str, paths: list[str], clients: int, raw: bool
) -> tuple[list[float], int, float]:
    """Each client sends its next request as soon as the last is answered."""
    queue = iter(paths)
    latencies: list[float] = []
    errors = 0

    async def client() -> None:
        nonlocal errors
        connection = _connect(base, raw)
        for path in queue:
            start = time.perf_counter()
            status = await connection.post(path)
            latencies.append(time.perf_counter() - start)
            errors += status != 200
        await connection.close()

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies, errors, time.perf_counter() - began


async def open_loop(
    base: str, paths: list[str], clients: int, raw: bool, rate: float
) -> tuple[list[float], int, float]:
    """Requests start on a fixed schedule; latency counts from the scheduled start."""
    latencies: list[float] = []
    errors = 0
    interval = clients / rate  # each client's share of the schedule

    async def client(index: int, began: float) -> None:
        nonlocal errors
        connection = _connect(base, raw)
        for n, path in enumerate(paths[index::clients]):
            due = began + index / rate + n * interval
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            status = await connection.post(path)
            latencies.append(time.perf_counter() - due)
            errors += status != 200
        await connection.close()

    began = time.perf_counter()
    await asyncio.gather(*(client(i, began) for i in range(clients)))
    return latencies, errors, time.perf_counter() - began


def report(label: str, latencies: list[float], errors: int, elapsed: float) -> dict[str, str]:
    cuts = statistics.quantiles(latencies, n=100)
    print(
        f"{label}: {len(latencies)} requests in {elapsed:.2f} s = {len(latencies) / elapsed:,.0f}"
        f" req/s; p50 {cuts[49] * 1000:.1f} ms, p90 {cuts[89] * 1000:.1f} ms,"
        f" p99 {cuts[98] * 1000:.1f} ms, max {max(latencies) * 1000:.1f} ms; non-200: {errors}"
    )
    return {
        "requests/s": f"{len(latencies) / elapsed:,.0f}",
        "p50 ms": f"{cuts[49] * 1000:.1f}",
        "p99 ms": f"{cuts[98] * 1000:.1f}",
        "non-200": str(errors),
        "load average": f"{os.getloadavg()[0]:.1f}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rate", type=float, default=None, help="open loop at this req/s")
    parser.add_argument("--database-url", default=None, help="an empty database instead of --db")
    parser.add_argument("--httpx", action="store_true", help="clients on httpx (slow client)")
    add_db_option(parser)
    args = parser.parse_args()
    figures: dict[str, dict[str, str]] = {}
    with tempfile.TemporaryDirectory(prefix="nl-bench-web-") as workdir:
        if args.database_url:
            measure(args, args.database_url, workdir)
            return
        for kind in kinds(args.db):
            with database(kind, Path(workdir), args.durable) as url:
                print(f"--- {kind}")
                figures[kind] = measure(args, url, workdir)
    side_by_side(figures)


def measure(args: argparse.Namespace, url: str, workdir: str) -> dict[str, str]:
    warmup = min(2_000, args.requests // 5)
    paths = populate(url, args.requests + warmup)
    port = free_port()
    server = start_server(url, port, args.workers, workdir)
    base = f"http://127.0.0.1:{port}"
    try:
        print(
            f"cores: {os.cpu_count()}, server workers: {args.workers}, clients: {args.clients},"
            f" database: {url.split(':')[0]}"
        )
        raw = not args.httpx
        asyncio.run(closed_loop(base, paths[:warmup], args.clients, raw))
        rest = paths[warmup:]
        if args.rate:
            result = asyncio.run(open_loop(base, rest, args.clients, raw, args.rate))
            return report(f"open loop at {args.rate:,.0f} req/s", *result)
        return report("closed loop", *asyncio.run(closed_loop(base, rest, args.clients, raw)))
    finally:
        server.terminate()
        server.wait(30)
        if os.environ.get("BENCH_SHOW_LOG"):
            print((Path(workdir) / "serve.log").read_text()[-3000:])


if __name__ == "__main__":
    main()
