"""Benchmark: the JSON API's subscriber pages and segment counts under concurrent clients.

    .venv/bin/python bench/api.py [--subscribers 1000000] [--clients 50] [--workers 2]
        [--pages 2000] [--counts 200] [--database-url URL]

Fills a fresh database (SQLite in a temporary directory unless --database-url names an empty
PostgreSQL database) with one list of N subscribers (a country attribute, a score, a tag on
one in ten), creates an editor token and starts `newsletter serve --workers W`. Then
`--clients` concurrent httpx clients, closed loop (each sends its next request when the last
answers): first `GET /api/v1/subscribers?list=bench&limit=100&cursor=RANDOM` (a page of 100
from anywhere in the list), then `POST /api/v1/segments/count` with four expressions asked
over and over (identical asks share a computation for SEGMENT_COUNT_CACHE_SECONDS), then
with every expression different (nothing shared: the database's own speed).
Prints req/s and p50/p90/p99. Targets (issue 11, 2 cores, 1,000,000 subscribers, 50 clients):
a page at p99 <= 50 ms, a segment count at p99 <= 1 s. The client shares the server's cores.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.web import report, start_server  # noqa: E402
from mailer.accounts.principal import cli_principal  # noqa: E402
from mailer.accounts.tokens import create_token  # noqa: E402
from mailer.ops.migrate import upgrade  # noqa: E402
from subscribers.db import make_engine, transaction  # noqa: E402
from subscribers.models import MailingList, Membership, Subscriber, SubscriberTag  # noqa: E402
from tests.fixtures.services import free_port  # noqa: E402

COUNTRIES = ("FR", "DE", "US", "GB", "ES", "IT", "NL", "SE")
SEGMENTS = (
    'attr.country = "FR"',
    'tags has "investors" and attr.country in ("FR", "DE")',
    "attr.score >= 7",
    'email ends_with "@example.org" or attr.country = "US"',
)
CHUNK = 50_000


def populate(url: str, count: int) -> tuple[str, int]:
    """The list, `count` subscribers on it; an editor token. Returns (token, highest id)."""
    engine = make_engine(url)
    upgrade(engine)
    with transaction(engine) as session:
        session.add(MailingList(name="bench", description=""))
        token = create_token(session, cli_principal(), f"bench-{time.time_ns()}", "editor")
    started = time.perf_counter()
    for first in range(1, count + 1, CHUNK):
        ids = range(first, min(first + CHUNK, count + 1))
        with engine.begin() as conn:
            conn.execute(insert(Subscriber), [_person(i) for i in ids])
            conn.execute(insert(Membership), [{"list_id": 1, "subscriber_id": i} for i in ids])
            tagged = [{"subscriber_id": i, "tag": "investors"} for i in ids if i % 10 == 0]
            conn.execute(insert(SubscriberTag), tagged)
    print(f"populated {count:,} subscribers in {time.perf_counter() - started:.0f} s")
    engine.dispose()
    return token, count


def _person(i: int) -> dict[str, Any]:
    domain = "example.org" if i % 3 else "example.com"
    attrs = {"country": COUNTRIES[i % len(COUNTRIES)], "score": i % 10}
    return {"id": i, "email": f"r{i}@{domain}", "email_norm": f"r{i}@{domain}", "attrs": attrs}


async def run(
    base: str, token: str, requests: list[tuple[str, str, Any]], clients: int
) -> tuple[list[float], int, float]:
    """Closed loop: each client sends its next request when the last is answered."""
    queue = iter(requests)
    latencies: list[float] = []
    errors = 0
    headers = {"Authorization": f"Bearer {token}"}

    async def client() -> None:
        nonlocal errors
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(
            base_url=base, headers=headers, limits=limits, timeout=120
        ) as http:
            for method, path, payload in queue:
                start = time.perf_counter()
                if method == "GET":
                    response = await http.get(path, params=payload)
                else:
                    response = await http.post(path, json=payload)
                latencies.append(time.perf_counter() - start)
                if response.status_code != 200:
                    errors += 1
                    seen.setdefault(response.status_code, response.text[:300])

    seen: dict[int, str] = {}
    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    for status, text in seen.items():
        print(f"  a {status} answer: {text}")
    return latencies, errors, time.perf_counter() - began


def pages(count: int, highest: int) -> list[tuple[str, str, Any]]:
    rng = random.Random(11)
    return [
        ("GET", "/api/v1/subscribers", {"list": "bench", "limit": 100,
                                        "cursor": str(rng.randrange(highest - 100))})
        for _ in range(count)
    ]  # fmt: skip


def counts(count: int, unique: bool = False) -> list[tuple[str, str, Any]]:
    """The four expressions over and over, or (`unique`) each one different, so no two
    requests can share a computation (SEGMENT_COUNT_CACHE_SECONDS)."""

    def expression(i: int) -> str:
        base = SEGMENTS[i % len(SEGMENTS)]
        return f'({base}) and not attr.nope = "{i}"' if unique else base

    return [
        ("POST", "/api/v1/segments/count", {"list": "bench", "segment": expression(i)})
        for i in range(count)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pages", type=int, default=2_000)
    parser.add_argument("--counts", type=int, default=200)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="nl-bench-api-") as workdir:
        url = args.database_url or f"sqlite:///{workdir}/bench.db"
        token, highest = populate(url, args.subscribers)
        port = free_port()
        server = start_server(url, port, args.workers, workdir)
        base = f"http://127.0.0.1:{port}"
        try:
            print(f"cores: {os.cpu_count()}, server workers: {args.workers},"
                  f" clients: {args.clients}, database: {url.split(':')[0]}")  # fmt: skip
            asyncio.run(run(base, token, pages(200, highest), args.clients))  # warm-up
            result = asyncio.run(run(base, token, pages(args.pages, highest), args.clients))
            report("GET /api/v1/subscribers (page of 100)", *result)
            result = asyncio.run(run(base, token, counts(args.counts), args.clients))
            report("POST /api/v1/segments/count (4 expressions, repeated)", *result)
            unique = counts(max(args.clients, args.counts // 4), unique=True)
            result = asyncio.run(run(base, token, unique, args.clients))
            report("POST /api/v1/segments/count (every expression different)", *result)
        finally:
            server.terminate()
            server.wait(30)
            if os.environ.get("BENCH_SHOW_LOG"):
                print((Path(workdir) / "serve.log").read_text()[-3000:])


if __name__ == "__main__":
    main()
