"""The bench scripts' load generator: a cheap closed-loop HTTP/1.1 client, and the server.

What it measures: `clients` concurrent clients, each on one kept-alive connection, each sending
its next request as soon as the answer to the last one is fully read (closed loop). The latency
of a request is from just before its bytes are written to just after the last byte of its
answer is read, on this machine's clock, so it includes the server's queueing. Throughput is
requests answered divided by the wall time of the whole run. Percentiles are over every request.

The client shares the cores with the server, so it must cost little: `RawConnection` writes
the request bytes and parses only the status line, Content-Length or chunked framing (like
wrk, ~50 µs of CPU a request); `HttpxConnection` (the scripts' `--httpx`) costs ~1 ms more.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlencode

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.fixtures.services import port_open, wait_for  # noqa: E402

_LENGTH = re.compile(rb"(?i)\r\ncontent-length: *(\d+)")
_CHUNKED = re.compile(rb"(?i)\r\ntransfer-encoding: *chunked")


@dataclass(frozen=True, slots=True)
class Call:
    """One request: method, path with its query string, body and its type."""

    method: str
    path: str
    body: bytes = b""
    content_type: str = ""


def get(path: str, params: Mapping[str, Any] | None = None) -> Call:
    return Call("GET", f"{path}?{urlencode(params)}" if params else path)


def post_json(path: str, payload: Any) -> Call:
    return Call("POST", path, json.dumps(payload).encode(), "application/json")


def post_form(path: str, body: bytes) -> Call:
    return Call("POST", path, body, "application/x-www-form-urlencoded")


class Connection(Protocol):
    async def send(self, call: Call) -> tuple[int, bytes]: ...
    async def close(self) -> None: ...


class RawConnection:
    """One kept-alive HTTP/1.1 connection on asyncio streams; `headers` go with every call."""

    def __init__(self, host: str, port: int, headers: Mapping[str, str]) -> None:
        self._host, self._port = host, port
        extra = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        self._head = f"Host: {host}:{port}\r\n{extra}"
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def send(self, call: Call) -> tuple[int, bytes]:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self._host, self._port)
        assert self._reader is not None
        head = f"{call.method} {call.path} HTTP/1.1\r\n{self._head}"
        if call.method != "GET":
            head += f"Content-Type: {call.content_type}\r\nContent-Length: {len(call.body)}\r\n"
        self._writer.write(head.encode() + b"\r\n" + call.body)
        answer = await self._reader.readuntil(b"\r\n\r\n")
        length = _LENGTH.search(answer)
        if length is not None:
            return int(answer[9:12]), await self._reader.readexactly(int(length.group(1)))
        if _CHUNKED.search(answer):
            return int(answer[9:12]), await self._chunks()
        return int(answer[9:12]), b""

    async def _chunks(self) -> bytes:
        assert self._reader is not None
        parts = []
        while size := int((await self._reader.readuntil(b"\r\n")).split(b";")[0], 16):
            parts.append(await self._reader.readexactly(size + 2))
        await self._reader.readuntil(b"\r\n")
        return b"".join(part[:-2] for part in parts)

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()


class HttpxConnection:
    """The same through httpx (its pool and models cost ~1 ms of client CPU a request)."""

    def __init__(self, base: str, headers: Mapping[str, str]) -> None:
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        self._http = httpx.AsyncClient(
            base_url=base, headers=dict(headers), limits=limits, timeout=120.0
        )

    async def send(self, call: Call) -> tuple[int, bytes]:
        headers = {"Content-Type": call.content_type} if call.method != "GET" else {}
        response = await self._http.request(
            call.method, call.path, content=call.body or None, headers=headers
        )
        return response.status_code, response.content

    async def close(self) -> None:
        await self._http.aclose()


def connect(base: str, headers: Mapping[str, str], raw: bool = True) -> Connection:
    if raw:
        host, port = base.removeprefix("http://").split(":")
        return RawConnection(host, int(port), headers)
    return HttpxConnection(base, headers)


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    elapsed: float = 0.0
    seen: dict[int, bytes] = field(default_factory=dict)  # one body per unexpected status


async def _closed_loop(
    base: str, calls: Iterable[Call], clients: int, headers: Mapping[str, str], raw: bool
) -> Result:
    queue, result = iter(calls), Result()

    async def client() -> None:
        connection = connect(base, headers, raw)
        for call in queue:
            start = time.perf_counter()
            status, body = await connection.send(call)
            result.latencies.append(time.perf_counter() - start)
            if status != 200:
                result.errors += 1
                result.seen.setdefault(status, body[:300])
        await connection.close()

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    result.elapsed = time.perf_counter() - began
    return result


def closed_loop(
    base: str,
    calls: Iterable[Call],
    clients: int,
    headers: Mapping[str, str] | None = None,
    raw: bool = True,
) -> Result:
    """Every call once, spread over `clients` concurrent closed-loop clients."""
    result = asyncio.run(_closed_loop(base, calls, clients, headers or {}, raw))
    for status, body in result.seen.items():
        print(f"  a {status} answer: {body.decode(errors='replace')}")
    return result


def report(label: str, result: Result) -> dict[str, str]:
    """Print one line of figures; return them for benchdb.side_by_side."""
    latencies, elapsed = result.latencies, result.elapsed
    cuts = statistics.quantiles(latencies, n=100)
    load = os.getloadavg()[0]
    print(
        f"{label}: {len(latencies)} requests in {elapsed:.2f} s = {len(latencies) / elapsed:,.0f}"
        f" req/s; p50 {cuts[49] * 1000:.1f} ms, p90 {cuts[89] * 1000:.1f} ms,"
        f" p99 {cuts[98] * 1000:.1f} ms, max {max(latencies) * 1000:.1f} ms;"
        f" non-200: {result.errors}; load average {load:.1f}"
    )
    return {
        f"{label} req/s": f"{len(latencies) / elapsed:,.0f}",
        f"{label} p50 ms": f"{cuts[49] * 1000:.1f}",
        f"{label} p99 ms": f"{cuts[98] * 1000:.1f}",
        f"{label} non-200": str(result.errors),
    }


def start_server(
    url: str, port: int, workers: int, workdir: str, secret: str, **extra: str
) -> subprocess.Popen[bytes]:
    """`newsletter serve --workers W` on `url`, its log in WORKDIR/serve.log; `extra` settings."""
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": secret,
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        **extra,
    }
    env.pop("REDIS_URL", None)
    command = [sys.executable, "-m", "mailer.cli.main", "serve", "--port", str(port)]
    command += ["--workers", str(workers)]
    log = open(Path(workdir) / "serve.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(command, env=env, cwd=workdir, stderr=log)
    wait_for(lambda: port_open(port), timeout=60, what="newsletter serve")
    return process


def stop_server(server: subprocess.Popen[bytes], workdir: str) -> None:
    server.terminate()
    server.wait(30)
    if os.environ.get("BENCH_SHOW_LOG"):
        print((Path(workdir) / "serve.log").read_text()[-3000:])
