"""Benchmark: the workspace's home, subscriber search and report pages, and a preview round-trip.

    .venv/bin/python bench/admin.py [--subscribers 1000000] [--sends 50] [--recipients 20000]
        [--clients 4] [--workers 2] [--requests 300] [--database-url URL]

Fills a fresh database with bench/api.py's list of N subscribers, then `--sends` finished
sends, each with `--recipients` recipients (their batches and recipient rows), opens for 30%
and clicks for 5% of them; signs an editor in (a real session) and starts
`newsletter serve --workers W`. Closed-loop clients then fetch `/admin`,
`/admin/subscribers?q=...` (a search by address or name) and `/admin/sends/{id}/report`, and
post the example issue to `/admin/preview`. Prints req/s and p50/p90/p99 per route. Targets
(issue 17, 2 cores): the pages at p99 <= 200 ms with 1,000,000 subscribers and 50 past sends,
the preview round-trip at p99 <= 100 ms. The client shares the server's cores.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, insert

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from api import populate, report, start_server  # noqa: E402

from mailer.accounts.principal import cli_principal  # noqa: E402
from mailer.accounts.sessions import start_session  # noqa: E402
from mailer.accounts.users import add_user, find_user  # noqa: E402
from mailer.core.models import Batch, Event, Send, SendRecipient  # noqa: E402
from subscribers.db import make_engine, transaction  # noqa: E402
from tests.fixtures.services import free_port  # noqa: E402

EXAMPLE = ROOT / "examples" / "issues" / "2026-11-30-weekly.md"
BATCH = 1000


def add_sends(engine: Engine, sends: int, recipients: int, highest: int) -> list[int]:
    """`sends` finished sends to `recipients` people each, with their opens and clicks."""
    started, ids = time.perf_counter(), []
    html = "<!doctype html><html><body><p>Past issue</p></body></html>"
    for n in range(sends):
        at = datetime.now(UTC) - timedelta(days=7 * (sends - n))
        with transaction(engine) as session:
            send = Send(
                slug=f"past-{n}",
                subject=f"Past issue {n}",
                html=html,
                text="Past",
                list_id=1,
                state="done",
                scheduled_at=at,
                started_at=at,
                finished_at=at + timedelta(minutes=20),
                total_recipients=recipients,
            )
            session.add(send)
            session.flush()
            ids.append(send.id)
        _fill_send(engine, send.id, at, recipients, highest, random.Random(n))
    print(f"added {sends} sends of {recipients:,} in {time.perf_counter() - started:.0f} s")
    return ids


def _fill_send(
    engine: Engine, send_id: int, at: datetime, recipients: int, highest: int, rng: random.Random
) -> None:
    people = rng.sample(range(1, highest + 1), recipients)
    with engine.begin() as conn:
        conn.execute(
            insert(Batch),
            [
                {
                    "send_id": send_id,
                    "seq": seq,
                    "state": "sent",
                    "recipient_count": BATCH,
                    "sent_count": BATCH,
                    "attempts": 1,
                    "finished_at": at,
                }
                for seq in range((recipients + BATCH - 1) // BATCH)
            ],
        )
        conn.execute(
            insert(SendRecipient),
            [
                {"send_id": send_id, "subscriber_id": sid, "batch_seq": i // BATCH, "state": "sent"}
                for i, sid in enumerate(people)
            ],
        )
        events = []
        for i, sid in enumerate(people):
            for kind, share in (("delivered", 1.0), ("open", 0.3), ("click", 0.05)):
                if rng.random() < share:
                    events.append(
                        {
                            "sg_event_id": f"{send_id}-{i}-{kind}",
                            "event": kind,
                            "email": f"r{sid}@x",
                            "subscriber_id": sid,
                            "send_id": send_id,
                            "occurred_at": at + timedelta(minutes=rng.randrange(2000)),
                            "url": "https://example.com/a" if kind == "click" else None,
                        }
                    )
        conn.execute(insert(Event), events)


def signed_in(url: str) -> str:
    engine = make_engine(url)
    with transaction(engine) as session:
        add_user(session, cli_principal(), "bench@example.com", "editor", "bench passphrase")
        user = find_user(session, "bench@example.com")
        assert user is not None
        return start_session(session, user, datetime.now(UTC), "bench")


async def run(
    base: str, cookie: str, requests: list[tuple[str, str, Any]], clients: int
) -> tuple[list[float], int, float]:
    """Closed loop, as bench/api.py; the editor's session cookie and a CSRF token set."""
    queue = iter(requests)
    latencies: list[float] = []
    errors = 0

    async def client() -> None:
        nonlocal errors
        async with httpx.AsyncClient(
            base_url=base, timeout=120, cookies={"nl_session": cookie}
        ) as http:
            page = await http.get("/admin/issues/new")
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            headers = {"X-CSRF-Token": token.group(1) if token else ""}
            for method, path, payload in queue:
                start = time.perf_counter()
                if method == "GET":
                    response = await http.get(path, params=payload)
                else:
                    response = await http.post(path, json=payload, headers=headers)
                latencies.append(time.perf_counter() - start)
                errors += response.status_code != 200

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies, errors, time.perf_counter() - began


def routes(count: int, send_ids: list[int], highest: int) -> dict[str, list[tuple[str, str, Any]]]:
    rng = random.Random(17)
    markdown = EXAMPLE.read_text(encoding="utf-8")
    return {
        "GET /admin (home)": [("GET", "/admin", None)] * count,
        "GET /admin/subscribers?q= (search)": [
            ("GET", "/admin/subscribers", {"q": f"r{rng.randrange(highest)}@", "list": "bench"})
            for _ in range(count)
        ],
        "GET /admin/sends/{id}/report": [
            ("GET", f"/admin/sends/{rng.choice(send_ids)}/report", None) for _ in range(count)
        ],
        "POST /admin/preview (example issue)": [
            ("POST", "/admin/preview", {"markdown": markdown + f"\n\nEdit {i}.\n"})
            for i in range(count)
        ],
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=1_000_000)
    parser.add_argument("--sends", type=int, default=50)
    parser.add_argument("--recipients", type=int, default=20_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="nl-bench-admin-") as workdir:
        url = args.database_url or f"sqlite:///{workdir}/bench.db"
        _token, highest = populate(url, args.subscribers)
        send_ids = add_sends(make_engine(url), args.sends, min(args.recipients, highest), highest)
        cookie = signed_in(url)
        port = free_port()
        server = start_server(url, port, args.workers, workdir)
        base = f"http://127.0.0.1:{port}"
        try:
            print(f"cores: {os.cpu_count()}, server workers: {args.workers},"
                  f" clients: {args.clients}, database: {url.split(':')[0]}")  # fmt: skip
            for label, requests in routes(args.requests, send_ids, highest).items():
                asyncio.run(run(base, cookie, requests[:20], args.clients))  # warm-up
                report(label, *asyncio.run(run(base, cookie, requests, args.clients)))
        finally:
            server.terminate()
            server.wait(30)


if __name__ == "__main__":
    main()
