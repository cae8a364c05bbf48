"""Benchmark: the workspace's home, subscriber search and report pages, and a preview round-trip.

    .venv/bin/python bench/admin.py [--subscribers 1000000] [--sends 50] [--recipients 20000]
        [--clients 4] [--workers 2] [--requests 300] [--db sqlite|postgresql|both] [--durable]
        [--database-url URL] [--httpx]

Fills a fresh database (`--db`, see bench/benchdb.py) with bench/api.py's list of N
subscribers, then `--sends` finished sends, each with `--recipients` recipients (their batches
and recipient rows), a delivered event for each, opens for 30% and clicks for 5% of them;
signs an editor in (a real session) and starts `newsletter serve --workers W`. Then, one route
after the other, `--clients` concurrent clients in a closed loop (bench/loadgen.py: one
kept-alive connection each, the next request sent when the last answer is fully read; latency
from writing the request to reading the answer's last byte) each `--requests` times:
- home: `GET /admin` (next send, sends under way, the last 5 sends' figures, warnings);
- search: `GET /admin/subscribers?q=rNNN@&list=bench`, a random address, 50 a page;
- send report: `GET /admin/sends/{id}/report` of a random past send (its chart included);
- preview: `POST /admin/preview` of the example issue with a different last line each time
  (what the editor's page posts as one types: Markdown in, HTML and warnings back).
Prints req/s and p50/p90/p99 per route. Targets (issue 17, 2 cores): the pages at
p99 <= 200 ms with 1,000,000 subscribers and 50 past sends, the preview round-trip at
p99 <= 100 ms. The client runs on the server's cores (~50 µs of CPU a request).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import Engine, insert

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from api import SECRET, populate  # noqa: E402
from benchdb import add_server_options, each_database  # noqa: E402
from loadgen import Call, closed_loop, get, post_json, report, start_server, stop_server  # noqa: E402

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


def headers_for(base: str, cookie: str) -> dict[str, str]:
    """The editor's session cookie, and the CSRF token of the editor's page with its nonce
    cookie (one GET, not timed)."""
    page = httpx.get(f"{base}/admin/issues/new", cookies={"nl_session": cookie}, timeout=60)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    nonce = page.cookies.get("nl_form", "")
    return {
        "Cookie": f"nl_session={cookie}; nl_form={nonce}",
        "X-CSRF-Token": token.group(1) if token else "",
    }


def routes(count: int, send_ids: list[int], highest: int) -> dict[str, list[Call]]:
    rng = random.Random(17)
    markdown = EXAMPLE.read_text(encoding="utf-8")
    return {
        "home": [get("/admin")] * count,
        "search": [
            get("/admin/subscribers", {"q": f"r{rng.randrange(highest)}@", "list": "bench"})
            for _ in range(count)
        ],
        "send report": [get(f"/admin/sends/{rng.choice(send_ids)}/report") for _ in range(count)],
        "preview": [
            post_json("/admin/preview", {"markdown": markdown + f"\n\nEdit {i}.\n"})
            for i in range(count)
        ],
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=1_000_000)
    parser.add_argument("--sends", type=int, default=50)
    parser.add_argument("--recipients", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=300)
    add_server_options(parser, clients=4)
    each_database(parser.parse_args(), "nl-bench-admin-", measure)


def measure(args: argparse.Namespace, url: str, workdir: str) -> dict[str, str]:
    _token, highest = populate(url, args.subscribers)
    send_ids = add_sends(make_engine(url), args.sends, min(args.recipients, highest), highest)
    cookie = signed_in(url)
    port = free_port()
    server = start_server(url, port, args.workers, workdir, SECRET)
    base, raw = f"http://127.0.0.1:{port}", not args.httpx
    figures: dict[str, str] = {}
    try:
        print(f"cores: {os.cpu_count()}, server workers: {args.workers},"
              f" clients: {args.clients}, database: {url.split(':')[0]}")  # fmt: skip
        headers = headers_for(base, cookie)
        for label, calls in routes(args.requests, send_ids, highest).items():
            closed_loop(base, calls[:20], args.clients, headers, raw)  # warm-up
            figures |= report(label, closed_loop(base, calls, args.clients, headers, raw))
    finally:
        stop_server(server, workdir)
    return figures


if __name__ == "__main__":
    main()
