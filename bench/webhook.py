"""Benchmark: signed Event Webhook batches of 1,000 events from concurrent clients.

    .venv/bin/python bench/webhook.py [--posts 40] [--clients 4] [--web-workers 1]
                                       [--worker] [--db sqlite|postgresql|both] [--durable]
                                       [--database-url URL] [--keep DIR]

Starts `newsletter serve` with a freshly generated P-256 key pair on a fresh database (SQLite
in a temp dir unless --database-url), with 20,000 subscribers who all received one send. Each
client posts signed batches of 1,000 realistic events (processed, delivered, opens, clicks,
deferrals, bounces, complaints, unsubscribes; custom_args on every event) and 10% of the posts
are replays of earlier ones. Processing is eager (in the web process, after the answer) or,
with --worker, a `celery worker -Q events` on a local Redis. Prints events/s accepted (all
posts answered 2xx) and processed (every stored event judged, applied_at set).
Target (issue 6, 2 cores): >= 5,000 events/s accepted and processed.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import insert, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from benchdb import add_db_option, database, kinds, side_by_side  # noqa: E402

from mailer.core.models import Batch, Event, Send, SendRecipient  # noqa: E402
from mailer.ops.migrate import upgrade  # noqa: E402
from subscribers.db import make_engine  # noqa: E402
from subscribers.models import MailingList, Membership, Subscriber  # noqa: E402
from tests.fixtures.services import (  # noqa: E402
    free_port,
    port_open,
    redis_server,
    wait_for,
)

PEOPLE = 20_000
KINDS = [
    ("processed", 30),
    ("delivered", 30),
    ("open", 20),
    ("click", 10),
    ("deferred", 4),
    ("bounce", 3),
    ("spamreport", 1),
    ("unsubscribe", 1),
    ("dropped", 1),
]


def seed(url: str) -> None:
    """One list, PEOPLE subscribers, one send that reached them all (bulk Core inserts)."""
    engine = make_engine(url)
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(insert(MailingList), [{"id": 1, "name": "weekly", "description": ""}])
        conn.execute(
            insert(Subscriber),
            [
                {
                    "id": i,
                    "email": f"p{i}@example.com",
                    "email_norm": f"p{i}@example.com",
                    "name": "",
                    "status": "active",
                    "attrs": {},
                    "bounce_count": 0,
                    "soft_bounce_count": 0,
                }
                for i in range(1, PEOPLE + 1)
            ],
        )
        conn.execute(
            insert(Membership),
            [
                {"list_id": 1, "subscriber_id": i, "status": "subscribed"}
                for i in range(1, PEOPLE + 1)
            ],
        )
        conn.execute(
            insert(Send),
            [
                {
                    "id": 1,
                    "slug": "bench",
                    "subject": "Bench",
                    "html": "x",
                    "text": "x",
                    "list_id": 1,
                    "state": "done",
                }
            ],
        )
        conn.execute(
            insert(Batch),
            [{"send_id": 1, "seq": 0, "state": "sent", "message_id": "benchmsg"}],
        )
        conn.execute(
            insert(SendRecipient),
            [
                {"send_id": 1, "subscriber_id": i, "batch_seq": 0, "state": "sent"}
                for i in range(1, PEOPLE + 1)
            ],
        )
    engine.dispose()


def make_bodies(posts: int, rng: random.Random) -> list[bytes]:
    kinds = [kind for kind, weight in KINDS for _ in range(weight)]
    bodies: list[bytes] = []
    for post in range(posts):
        if post >= 10 and rng.random() < 0.1:  # SendGrid retrying an earlier post
            bodies.append(bodies[rng.randrange(len(bodies))])
            continue
        events = []
        for n in range(1000):
            person = rng.randint(1, PEOPLE)
            kind = rng.choice(kinds)
            event = {
                "email": f"p{person}@example.com",
                "event": kind,
                "timestamp": int(time.time()) - rng.randint(0, 3600),
                "sg_event_id": f"b{post}-{n}",
                "sg_message_id": f"benchmsg.filter-{person}",
                "smtp-id": "<benchmsg@ismtpd.sendgrid.net>",
                "category": ["newsletter"],
                "nl_send_id": "1",
                "nl_subscriber_id": str(person),
                "nl_list_id": "1",
            }
            if kind == "bounce":
                event.update(
                    type=rng.choice(["bounce", "blocked"]), reason="550 5.1.1", status="5.1.1"
                )
            elif kind == "click":
                event.update(
                    url=f"https://example.com/{rng.randint(1, 20)}", useragent="Mozilla/5.0"
                )
            elif kind == "dropped":
                event.update(reason=rng.choice(["Bounced Address", "Spam Content"]))
            events.append(event)
        bodies.append((json.dumps(events, separators=(",", ":")) + "\r\n").encode())
    return bodies


def unapplied(url: str) -> bool:
    """True while any stored event still waits for the policy."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            waiting = select(Event.id).where(Event.applied_at.is_(None)).limit(1)
            return conn.execute(waiting).first() is not None
    finally:
        engine.dispose()


def post_all(
    port: int, bodies: list[bytes], clients: int, key: ec.EllipticCurvePrivateKey
) -> float:
    queue = list(enumerate(bodies))
    lock = threading.Lock()
    failures: list[str] = []

    def client() -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as http:
            while True:
                with lock:
                    if not queue:
                        return
                    _, body = queue.pop()
                stamp = str(int(time.time()))
                signature = base64.b64encode(
                    key.sign(stamp.encode() + body, ec.ECDSA(hashes.SHA256()))
                )
                response = http.post(
                    "/webhooks/sendgrid",
                    content=body,
                    headers={
                        "X-Twilio-Email-Event-Webhook-Signature": signature.decode(),
                        "X-Twilio-Email-Event-Webhook-Timestamp": stamp,
                        "Content-Type": "application/json",
                    },
                )
                if response.status_code != 200:
                    failures.append(f"{response.status_code} {response.text[:200]}")

    threads = [threading.Thread(target=client) for _ in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise SystemExit(f"{len(failures)} posts refused, first: {failures[0]}")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=40)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--web-workers", type=int, default=1)
    parser.add_argument("--worker", action="store_true", help="process on a celery worker")
    parser.add_argument("--database-url", help="an existing database instead of --db")
    parser.add_argument("--keep")
    add_db_option(parser)
    args = parser.parse_args()
    workdir = Path(args.keep or tempfile.mkdtemp(prefix="bench-webhook-"))
    workdir.mkdir(parents=True, exist_ok=True)
    if args.database_url:
        bench(args, args.database_url, workdir)
        return
    figures: dict[str, dict[str, str]] = {}
    for kind in kinds(args.db):
        with database(kind, workdir, args.durable) as url:
            print(f"--- {kind}")
            figures[kind] = bench(args, url, workdir)
    side_by_side(figures)


def bench(args: argparse.Namespace, url: str, workdir: Path) -> dict[str, str]:
    seed(url)
    key = ec.generate_private_key(ec.SECP256R1())
    public = base64.b64encode(
        key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    ).decode()
    bodies = make_bodies(args.posts, random.Random(6))
    unique = len({body for body in bodies})
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SENDGRID_WEBHOOK_PUBLIC_KEY": public,
        "SECRET_KEY": "bench",
        "LOG_LEVEL": "WARNING",
    }
    with redis_server() if args.worker else _nothing() as redis:
        if redis is not None:
            env["REDIS_URL"] = redis.url
        return run(args, env, url, bodies, unique, key, workdir)


class _nothing:
    def __enter__(self) -> Any:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def run(
    args: argparse.Namespace,
    env: dict[str, str],
    url: str,
    bodies: list[bytes],
    unique: int,
    key: ec.EllipticCurvePrivateKey,
    workdir: Path,
) -> dict[str, str]:
    with contextlib.ExitStack() as logs:
        port = free_port()
        procs = [
            subprocess.Popen(
                [
                    str(ROOT / ".venv/bin/newsletter"),
                    "serve",
                    "--port",
                    str(port),
                    "--workers",
                    str(args.web_workers),
                ],
                env=env,
                cwd=workdir,
                stdout=subprocess.DEVNULL,
                stderr=logs.enter_context((workdir / "serve.log").open("w")),
            )
        ]
        if args.worker:
            procs.append(
                subprocess.Popen(
                    [
                        str(ROOT / ".venv/bin/celery"),
                        "-A",
                        "worker",
                        "worker",
                        "-Q",
                        "events",
                        "--concurrency",
                        "2",
                        "--loglevel",
                        "WARNING",
                    ],
                    env=env,
                    cwd=ROOT,
                    stdout=subprocess.DEVNULL,
                    stderr=logs.enter_context((workdir / "worker.log").open("w")),
                )
            )
        try:
            wait_for(lambda: port_open(port), timeout=60, what="newsletter serve")
            start = time.perf_counter()
            accepted = post_all(port, bodies, args.clients, key)
            wait_for(lambda: not unapplied(url), timeout=600, what="events processed")
            processed = time.perf_counter() - start
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(timeout=30)
        events = len(bodies) * 1000
        print(
            f"nproc={os.cpu_count()} database={url.split(':')[0]} web_workers={args.web_workers} "
            f"processing={'celery worker' if args.worker else 'eager (in web process)'}"
        )
        print(
            f"{len(bodies)} posts x 1000 events ({unique} distinct posts, the rest replays), "
            f"{args.clients} concurrent clients"
        )
        print(f"accepted:  {events / accepted:,.0f} events/s ({accepted:.2f} s)")
        print(f"processed: {events / processed:,.0f} events/s ({processed:.2f} s, policy applied)")
        return {
            "accepted events/s": f"{events / accepted:,.0f}",
            "processed events/s": f"{events / processed:,.0f}",
            "load average": f"{os.getloadavg()[0]:.1f}",
        }


if __name__ == "__main__":
    main()
