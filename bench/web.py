"""Benchmark: RFC 8058 one-click unsubscribe POSTs against `newsletter serve`.

    .venv/bin/python bench/web.py [--requests 20000] [--clients 100] [--workers 2]
        [--rate 1000] [--db sqlite|postgresql|both] [--durable] [--database-url URL]

Creates a fresh database (SQLite in a temporary directory unless --database-url names an empty
PostgreSQL database) with one subscriber per request, starts `newsletter serve --workers N` as
a subprocess, and has `--clients` concurrent clients (bench/loadgen.py; `--httpx` for the
slow client) POST `List-Unsubscribe=One-Click` to each subscriber's own /u/ link: every
request is a real unsubscribe (one transaction). Prints requests/s and latency percentiles.

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
import sys
import time
from pathlib import Path

from sqlalchemy import insert

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from benchdb import add_server_options, each_database  # noqa: E402
from loadgen import (  # noqa: E402
    Call,
    Result,
    closed_loop,
    connect,
    post_form,
    report,
    start_server,
    stop_server,
)

from mailer.ops.migrate import upgrade  # noqa: E402
from mailer.readers.links import Purpose, Signer, Token  # noqa: E402
from subscribers.db import make_engine, transaction  # noqa: E402
from subscribers.models import MailingList, Membership, Subscriber  # noqa: E402
from tests.fixtures.services import free_port  # noqa: E402

SECRET = "bench-secret-key"
BODY = b"List-Unsubscribe=One-Click"


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


async def open_loop(calls: list[Call], clients: int, rate: float, base: str, raw: bool) -> Result:
    """Requests start on a fixed schedule; latency counts from the scheduled start."""
    result = Result()
    interval = clients / rate  # each client's share of the schedule

    async def client(index: int, began: float) -> None:
        connection = connect(base, {}, raw)
        for n, call in enumerate(calls[index::clients]):
            due = began + index / rate + n * interval
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            status, _body = await connection.send(call)
            result.latencies.append(time.perf_counter() - due)
            result.errors += status != 200
        await connection.close()

    began = time.perf_counter()
    await asyncio.gather(*(client(i, began) for i in range(clients)))
    result.elapsed = time.perf_counter() - began
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--rate", type=float, default=None, help="open loop at this req/s")
    add_server_options(parser, clients=100)
    each_database(parser.parse_args(), "nl-bench-web-", measure)


def measure(args: argparse.Namespace, url: str, workdir: str) -> dict[str, str]:
    warmup = min(2_000, args.requests // 5)
    calls = [post_form(path, BODY) for path in populate(url, args.requests + warmup)]
    port = free_port()
    server = start_server(url, port, args.workers, workdir, SECRET)
    base, raw = f"http://127.0.0.1:{port}", not args.httpx
    try:
        print(
            f"cores: {os.cpu_count()}, server workers: {args.workers}, clients: {args.clients},"
            f" database: {url.split(':')[0]}"
        )
        closed_loop(base, calls[:warmup], args.clients, raw=raw)
        rest = calls[warmup:]
        if args.rate:
            result = asyncio.run(open_loop(rest, args.clients, args.rate, base, raw))
            return report(f"open loop at {args.rate:,.0f} req/s", result)
        return report("closed loop", closed_loop(base, rest, args.clients, raw=raw))
    finally:
        stop_server(server, workdir)


if __name__ == "__main__":
    main()
