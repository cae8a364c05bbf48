"""13. `newsletter serve` cuts clients that trickle headers or bodies, trusts X-Forwarded-For
from no one unless told, and compose puts a real reverse proxy in front of the app."""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from mailer.core.settings import Settings
from tests.fixtures.services import free_port, port_open, wait_for
from tests.security.helpers import csrf_field, serving

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def served(settings: Settings) -> Iterator[int]:
    """The real server, with short deadlines so the test is quick."""
    deadlines = {"HTTP_HEADER_TIMEOUT_SECONDS": "1", "HTTP_BODY_TIMEOUT_SECONDS": "1"}
    with serving(**deadlines, SIGNUP_IP_LIMIT_PER_HOUR="1", FORWARDED_ALLOW_IPS="") as port:
        yield port


def _trickle(port: int, chunks: list[bytes], pause: float, limit: float) -> tuple[float, bytes]:
    """Send `chunks` slowly; how long the server kept listening, and what it answered."""
    with socket.create_connection(("127.0.0.1", port), timeout=limit) as conn:
        return _trickle_on(conn, chunks, pause, limit)


def _trickle_on(
    conn: socket.socket, chunks: list[bytes], pause: float, limit: float
) -> tuple[float, bytes]:
    started = time.monotonic()
    answer = b""
    try:
        for chunk in [*chunks, b""]:
            if chunk:
                conn.sendall(chunk)
            # Read as we go: a server that answers and closes may reset a late reader.
            readable, _, _ = select.select([conn], [], [], pause)
            if readable:
                answer = conn.recv(1000)
                break
            if time.monotonic() - started > limit:
                break
        else:
            answer = conn.recv(1000)
    except OSError:
        pass
    return time.monotonic() - started, answer


def test_trickled_headers_are_cut(served: int) -> None:
    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: a\r\n" * 40
    took, answer = _trickle(served, [bytes([b]) for b in request], 0.1, 8)
    assert took < 4 and answer == b""


def test_trickled_headers_of_the_next_request_on_a_kept_alive_connection_are_cut(
    served: int,
) -> None:
    first = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    second = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: a\r\n" * 40
    with socket.create_connection(("127.0.0.1", served), timeout=8) as conn:
        conn.sendall(first)
        assert conn.recv(1000).startswith(b"HTTP/1.1 200")
        took, _ = _trickle_on(conn, [bytes([b]) for b in second], 0.1, 8)
    assert took < 4


def test_headers_larger_than_the_bound_are_refused_with_431(served: int) -> None:
    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n"
    with socket.create_connection(("127.0.0.1", served), timeout=8) as conn:
        with contextlib.suppress(OSError):  # closed while we still wrote: the answer went first
            conn.sendall(request)
        answer = conn.recv(1000)
    assert answer.startswith(b"HTTP/1.1 431")


def test_a_silent_connection_is_cut(served: int) -> None:
    took, _ = _trickle(served, [], 0, 8)
    assert took < 4


def test_trickled_body_gets_408(served: int) -> None:
    head = (
        b"POST /subscribe HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded"
        b"\r\nContent-Length: 400\r\n\r\n"
    )
    took, answer = _trickle(served, [head] + [b"a"] * 60, 0.1, 8)
    assert took < 4 and answer.startswith(b"HTTP/1.1 408")


def test_a_normal_request_still_works(served: int) -> None:
    assert httpx.get(f"http://127.0.0.1:{served}/healthz").status_code == 200


def test_forwarded_for_from_localhost_is_not_believed_by_default(served: int) -> None:
    """The sign-up limit (1 an hour here) keys on the client address: a local client that
    names another address in X-Forwarded-For is still itself."""
    answers = _signups(f"http://127.0.0.1:{served}", ["203.0.113.9", "198.51.100.7"])
    assert answers == [200, 429]


def test_compose_puts_a_reverse_proxy_in_front_and_trusts_only_it() -> None:
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    assert "ports" not in services["web"], "the app port must not be published directly"
    proxy = services["proxy"]
    dockerfile = (ROOT / proxy["build"] / "Dockerfile").read_text()
    assert "FROM caddy:2" in dockerfile  # the official image, our Caddyfile baked in
    caddyfile = (ROOT / proxy["build"] / "Caddyfile").read_text()
    assert "read_header 10s" in caddyfile and "reverse_proxy {$UPSTREAM:web:8000}" in caddyfile
    assert proxy["ports"] and proxy["depends_on"]["web"]
    trusted = services["web"]["environment"]["FORWARDED_ALLOW_IPS"]
    assert trusted and trusted != "*" and "127.0.0.1" not in trusted
    network = services["proxy"]["networks"]["edge"]["ipv4_address"]
    assert trusted == network


def _signups(base: str, claimed: list[str]) -> list[int]:
    with httpx.Client(base_url=base) as client:
        answers = []
        for n, address in enumerate(claimed):
            token = csrf_field(client.get("/subscribe").text)
            data = {"csrf_token": token, "email": f"r{n}@example.com"}
            response = client.post("/subscribe", data=data, headers={"X-Forwarded-For": address})
            answers.append(response.status_code)
    return answers


def test_through_the_real_proxy_a_client_cannot_pick_its_address(settings: Settings) -> None:
    """Caddy with the deployment's Caddyfile in front of the app, which trusts Caddy only:
    the client's own X-Forwarded-For is replaced, so per-IP limits still hold."""
    caddy = shutil.which("caddy")
    assert caddy, "caddy is missing: run `bash scripts/setup --test`"
    proxy_port = free_port()
    trusted = {"SIGNUP_IP_LIMIT_PER_HOUR": "1", "FORWARDED_ALLOW_IPS": "127.0.0.1"}
    with serving(**trusted) as app_port:
        proxy_env = {
            **os.environ,
            "SITE_ADDRESS": f":{proxy_port}",
            "UPSTREAM": f"127.0.0.1:{app_port}",
            "CADDY_ADMIN": "off",
            "XDG_DATA_HOME": os.getcwd(),
            "XDG_CONFIG_HOME": os.getcwd(),
        }
        caddyfile = str(ROOT / "deploy" / "proxy" / "Caddyfile")
        command = [caddy, "run", "--config", caddyfile, "--adapter", "caddyfile"]
        proxy = subprocess.Popen(command, env=proxy_env, stderr=subprocess.DEVNULL)
        try:
            wait_for(lambda: port_open(proxy_port), what="caddy")
            answers = _signups(f"http://127.0.0.1:{proxy_port}", ["203.0.113.9", "198.51.100.7"])
        finally:
            proxy.terminate()
            proxy.wait(15)
    assert answers == [200, 429]
