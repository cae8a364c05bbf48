"""Benchmark: the JSON API's subscriber pages and segment counts under concurrent clients.

    .venv/bin/python bench/api.py [--subscribers 1000000] [--clients 50] [--workers 2]
        [--pages 2000] [--counts 200] [--db sqlite|postgresql|both] [--durable]
        [--database-url URL] [--httpx]

Fills a fresh database (`--db`, see bench/benchdb.py; or --database-url, an empty database)
with one list of N subscribers (a country attribute, a score, a tag on one in ten), creates
an editor token and starts `newsletter serve --workers W`. Then `--clients` concurrent
clients in a closed loop (bench/loadgen.py: each client has one kept-alive connection and
sends its next request when the last answer is fully read; latency is from writing the
request to reading the answer's last byte, queueing in the server included):
1. `GET /api/v1/subscribers?list=bench&limit=100&cursor=RANDOM`: a page of 100 from anywhere;
2. `POST /api/v1/segments/count` with four expressions asked over and over, after an untimed
   round of `--clients` asks (identical asks share one computation per server process: fresh for
   SEGMENT_COUNT_CACHE_SECONDS, then answered while refreshed in the background up to
   SEGMENT_COUNT_STALE_SECONDS; a worker that has not computed one yet computes it);
3. the same with every expression different, so nothing is shared: this is the database's
   own speed for a count over the whole list, one count per request.
Prints req/s and p50/p90/p99 for each. Targets (issue 11, 2 cores, 1,000,000 subscribers,
50 clients): a page at p99 <= 50 ms, a segment count at p99 <= 1 s. The client runs on the
same cores as the server (~50 µs of CPU a request; `--httpx` for the old, ~1 ms client).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import insert

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from benchdb import add_server_options, each_database  # noqa: E402
from loadgen import Call, closed_loop, get, post_json, report, start_server, stop_server  # noqa: E402

from mailer.accounts.principal import cli_principal  # noqa: E402
from mailer.accounts.tokens import create_token  # noqa: E402
from mailer.ops.migrate import upgrade  # noqa: E402
from subscribers.db import make_engine, transaction  # noqa: E402
from subscribers.models import MailingList, Membership, Subscriber, SubscriberTag  # noqa: E402
from tests.fixtures.services import free_port  # noqa: E402

SECRET = "bench-secret-key"
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
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")  # as autovacuum would soon after an import
    print(f"populated {count:,} subscribers in {time.perf_counter() - started:.0f} s")
    engine.dispose()
    return token, count


def _person(i: int) -> dict[str, Any]:
    domain = "example.org" if i % 3 else "example.com"
    attrs = {"country": COUNTRIES[i % len(COUNTRIES)], "score": i % 10}
    return {"id": i, "email": f"r{i}@{domain}", "email_norm": f"r{i}@{domain}", "attrs": attrs}


def pages(count: int, highest: int) -> list[Call]:
    rng = random.Random(11)
    return [
        get("/api/v1/subscribers",
            {"list": "bench", "limit": 100, "cursor": rng.randrange(highest - 100)})
        for _ in range(count)
    ]  # fmt: skip


def counts(count: int, unique: bool = False) -> list[Call]:
    """The four expressions over and over, or (`unique`) each one different, so no two
    requests can share a computation (SEGMENT_COUNT_CACHE_SECONDS)."""

    def expression(i: int) -> str:
        base = SEGMENTS[i % len(SEGMENTS)]
        return f'({base}) and not attr.nope = "{i}"' if unique else base

    return [
        post_json("/api/v1/segments/count", {"list": "bench", "segment": expression(i)})
        for i in range(count)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=1_000_000)
    parser.add_argument("--pages", type=int, default=2_000)
    parser.add_argument("--counts", type=int, default=200)
    add_server_options(parser, clients=50)
    each_database(parser.parse_args(), "nl-bench-api-", measure)


def measure(args: argparse.Namespace, url: str, workdir: str) -> dict[str, str]:
    token, highest = populate(url, args.subscribers)
    port = free_port()
    server = start_server(url, port, args.workers, workdir, SECRET)
    base, raw = f"http://127.0.0.1:{port}", not args.httpx
    headers = {"Authorization": f"Bearer {token}"}
    figures: dict[str, str] = {}
    try:
        print(f"cores: {os.cpu_count()}, server workers: {args.workers},"
              f" clients: {args.clients}, database: {url.split(':')[0]}")  # fmt: skip
        closed_loop(base, pages(200, highest), args.clients, headers, raw)  # warm-up
        result = closed_loop(base, pages(args.pages, highest), args.clients, headers, raw)
        figures |= report("page of 100", result)
        # Untimed: one ask per client, so each server process has computed each expression.
        closed_loop(base, counts(args.clients), args.clients, headers, raw)
        result = closed_loop(base, counts(args.counts), args.clients, headers, raw)
        figures |= report("count, 4 repeated", result)
        unique = counts(max(args.clients, args.counts // 4), unique=True)
        figures |= report(
            "count, all different", closed_loop(base, unique, args.clients, headers, raw)
        )
    finally:
        stop_server(server, workdir)
    return figures


if __name__ == "__main__":
    main()
