"""Benchmark: how many 1000-personalization mail/send requests the local SendGrid server takes.

    .venv/bin/python bench/fake_sendgrid.py [--requests 200] [--clients 4] [--record emails]
        [--sendgrid-library]

Starts `python -m mailer.transport.fake_sendgrid` as a subprocess (as tests and the send
benchmark do), posts realistic newsletter requests (1000 personalizations with substitutions,
List-Unsubscribe headers and custom_args, about 0.5 MB of JSON each) from concurrent client
threads, and prints requests/s, recipients/s and the server's own CPU time per request. By
default the clients send pre-encoded bodies over plain http.client so the figure is the
server's; `--sendgrid-library` goes through SendGridTransport as the workers do.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mailer.transport.sendgrid import SendGridTransport  # noqa: E402
from tests.fixtures.services import free_port, port_open, wait_for  # noqa: E402


def payload(batch: int, size: int = 1000) -> dict[str, Any]:
    people = []
    for i in range(size):
        n = batch * size + i
        token = f"{n:08d}.{'x' * 90}"
        people.append(
            {
                "to": [{"email": f"reader{n}@example.com", "name": f"Reader {n}"}],
                "substitutions": {
                    "-subscriber_name-": f"Reader {n}",
                    "-unsubscribe_url-": f"https://news.example.test/u/{token}",
                    "-preferences_url-": f"https://news.example.test/p/{token}",
                    "-forward_url-": f"https://news.example.test/f/{token}",
                    "-view_url-": f"https://news.example.test/v/{token}",
                },
                "headers": {
                    "List-Unsubscribe": f"<https://news.example.test/u/{token}>",
                    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                    "List-Id": "<weekly.news.example.test>",
                },
                "custom_args": {"nl_send": "1", "nl_sub": str(n)},
            }
        )
    return {
        "personalizations": people,
        "from": {"email": "news@example.test", "name": "The Newsletter"},
        "subject": "Issue 12",
        "content": [
            {"type": "text/plain", "value": "Hello -subscriber_name- " * 200},
            {"type": "text/html", "value": "<p>Hello -subscriber_name-</p>" * 600},
        ],
    }


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _raw_client(port: int, bodies: list[bytes], jobs: list[int], errors: list[str]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Authorization": "Bearer SG.bench", "Content-Type": "application/json"}
    while jobs:
        try:
            job = jobs.pop()
        except IndexError:
            return
        conn.request("POST", "/v3/mail/send", bodies[job % len(bodies)], headers)
        response = conn.getresponse()
        response.read()
        if response.status != 202:
            errors.append(str(response.status))


def _library_client(port: int, payloads: list[dict[str, Any]], jobs: list[int]) -> None:
    transport = SendGridTransport("SG.bench", f"http://127.0.0.1:{port}", 60)
    while jobs:
        try:
            job = jobs.pop()
        except IndexError:
            return
        transport.deliver(payloads[job % len(payloads)])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--record", default="emails")
    parser.add_argument("--sendgrid-library", action="store_true")
    args = parser.parse_args()

    payloads = [payload(b) for b in range(20)]
    bodies = [json.dumps(p).encode() for p in payloads]
    port = free_port()
    command = [sys.executable, "-m", "mailer.transport.fake_sendgrid", "--port", str(port)]
    server = subprocess.Popen([*command, "--record", args.record], cwd=ROOT)
    try:
        wait_for(lambda: port_open(port), what="local SendGrid server")
        jobs = list(range(args.requests))
        errors: list[str] = []
        target: Any = _library_client if args.sendgrid_library else _raw_client
        client_args: tuple[Any, ...] = (
            (port, payloads, jobs) if args.sendgrid_library else (port, bodies, jobs, errors)
        )
        threads = [threading.Thread(target=target, args=client_args) for _ in range(args.clients)]
        cpu_before, started = _cpu_seconds(server.pid), time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
        cpu = _cpu_seconds(server.pid) - cpu_before
        print(f"nproc={os.cpu_count()} clients={args.clients} record={args.record}")
        print(f"request body: {len(bodies[0]) / 1e6:.2f} MB, 1000 personalizations")
        print(f"{args.requests} requests in {wall:.2f} s: {args.requests / wall:.1f} requests/s, ")
        print(f"  {args.requests * 1000 / wall:,.0f} recipients/s, errors: {len(errors)}")
        print(
            f"server CPU: {cpu / args.requests * 1000:.1f} ms per request "
            f"(=> at most {args.requests / max(cpu, 1e-9):.0f} requests/s per core); "
            f"peak RSS {_rss_mb(server.pid):.0f} MB"
        )
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
