"""A local SendGrid-compatible HTTP server for tests, benchmarks and development.

Run it with `python -m mailer.transport.fake_sendgrid --port 8025` and point SENDGRID_API_HOST
at `http://127.0.0.1:8025`. It answers like SendGrid (`POST /v3/mail/send` validated by
`mail_schema`, 202 with `X-Message-Id`, 400/401/413 with SendGrid's error shape; the global
suppression lists; `POST /v3/mail/batch`), records what it accepts and injects faults
(`fake_faults`). Its own control API lives under `/_fake/`:

    GET  /_fake/requests[?offset=&limit=]   accepted requests (see fake_store for the shape)
    GET  /_fake/recipients                  flat list of {email, message_id, custom_args}
    GET  /_fake/stats                       counters, including injected faults and duplicates
    GET  /_fake/faults, POST /_fake/faults  read or change fault settings (JSON object)
    POST /_fake/reset                       forget everything; faults back to the start ones
    POST /_fake/suppressions                {"kind": "bounces", "email": ..., ...} or a list

A threaded stdlib server: per request the cost is parsing (orjson) and validation (about 15 ms
for 1000 personalizations), which the GIL serialises anyway; `bench/fake_sendgrid.py` measures it.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import gzip
import secrets
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson

from mailer.transport.fake_faults import Faults, decide
from mailer.transport.fake_routes import control_route, suppression_route
from mailer.transport.fake_store import RECORD_MODES, Store
from mailer.transport.mail_schema import mail_send_errors


def error_body(message: str, field: str | None = None) -> dict[str, Any]:
    return {"errors": [{"message": message, "field": field, "help": None}]}


class FakeSendGrid(ThreadingHTTPServer):
    """The server: state (faults, store, request counter) plus the HTTP listener."""

    daemon_threads = True
    request_queue_size = 256

    def __init__(
        self,
        port: int = 0,
        faults: Faults | None = None,
        record: str = "personalizations",
        api_key: str | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        super().__init__((host, port), Handler)
        self.initial_faults = faults or Faults()
        self.faults = self.initial_faults
        self.store = Store(record)
        self.api_key = api_key
        self._counter_lock = threading.Lock()
        self._counter = 0

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def next_number(self) -> int:
        with self._counter_lock:
            self._counter += 1
            return self._counter

    def reset(self) -> None:
        with self._counter_lock:
            self._counter = 0
        self.faults = self.initial_faults
        self.store.clear()

    def start_in_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, name="fake-sendgrid", daemon=True)
        thread.start()
        return thread


class Handler(BaseHTTPRequestHandler):
    server: FakeSendGrid
    protocol_version = "HTTP/1.1"
    server_version = "FakeSendGrid/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: a benchmark makes thousands of requests."""

    # -- plumbing -------------------------------------------------------------------------
    def _query(self) -> tuple[str, dict[str, str]]:
        parts = urlsplit(self.path)
        return parts.path.rstrip("/"), {k: v[-1] for k, v in parse_qs(parts.query).items()}

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _drain(self, length: int) -> None:
        while length > 0:
            chunk = self.rfile.read(min(length, 1 << 20))
            if not chunk:
                break
            length -= len(chunk)

    def reply(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        data = b"" if body is None else orjson.dumps(body)
        self.send_response(status)
        if data:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if data:
            self.wfile.write(data)

    def drop(self) -> None:
        """Close the connection without a single byte of answer."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def authorized(self) -> bool:
        scheme, _, token = (self.headers.get("Authorization") or "").partition(" ")
        token = token.strip()
        ok = scheme.lower() == "bearer" and bool(token)
        if ok and self.server.api_key is not None:
            ok = secrets.compare_digest(token, self.server.api_key)
        if not ok:
            self.server.store.count("unauthorized")
            message = (
                "authorization required"
                if not token
                else ("The provided authorization grant is invalid, expired, or revoked")
            )
            self.reply(401, error_body(message))
        return ok

    # -- routes ---------------------------------------------------------------------------
    def do_GET(self) -> None:
        path, query = self._query()
        if path.startswith("/_fake/"):
            control_route(self, "GET", path, query, b"")
        elif path.startswith("/v3/suppression/"):
            if self.authorized():
                suppression_route(self, path, query)
        elif path.startswith("/v3/mail/batch/"):
            if self.authorized():
                self.reply(200, {"batch_id": path.rsplit("/", 1)[-1]})
        elif path == "/v3/scopes":
            # What `newsletter doctor` asks to see that the key answers and may send.
            if self.authorized():
                self.reply(200, {"scopes": ["mail.send", "mail.batch.read", "suppression.read"]})
        else:
            self.reply(404, error_body("not found"))

    def do_POST(self) -> None:
        path, query = self._query()
        if path == "/v3/mail/send":
            self.mail_send()
        elif path == "/v3/mail/batch":
            self._read_body()
            if self.authorized():
                self.reply(201, {"batch_id": secrets.token_urlsafe(24)})
        elif path.startswith("/_fake/"):
            control_route(self, "POST", path, query, self._read_body())
        else:
            self._read_body()
            self.reply(404, error_body("not found"))

    def mail_send(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        faults = self.server.faults
        if length > faults.max_bytes:
            self._drain(length)
            self.server.store.count("rejected_requests")
            self.reply(413, error_body("content too large"))
            return
        body = self.rfile.read(length) if length > 0 else b""
        if not self.authorized():
            return
        if "application/json" not in (self.headers.get("Content-Type") or ""):
            self.server.store.count("rejected_requests")
            self.reply(415, error_body("Content-Type should be application/json."))
            return
        number = self.server.next_number()
        self.server.store.count("mail_send_requests")
        decision = decide(faults, number)
        if decision.delay > 0:
            self.server.store.count("fault_delay")
            time.sleep(decision.delay)
        if decision.action is not None:
            self.inject(decision.action, number, faults)
            return
        self.accept(body, decision.drop_after_accept)

    def inject(self, action: str, number: int, faults: Faults) -> None:
        self.server.store.count(f"fault_{action}")
        if action == "drop":
            self.drop()
        elif action == "429":
            reset = int(time.time() + faults.retry_after + 0.999)
            headers = {
                "X-RateLimit-Limit": "600",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(reset),
            }
            self.reply(429, {"errors": [{"field": None, "message": "too many requests"}]}, headers)
        elif action == "500":
            self.reply(500, {"errors": [{"field": None, "message": "internal server error"}]})
        else:
            self.reply(400, error_body(f"injected failure: request {number} refused", None))

    def accept(self, body: bytes, drop_after: bool) -> None:
        try:
            if (self.headers.get("Content-Encoding") or "").lower() == "gzip":
                body = gzip.decompress(body)  # SendGrid's MailBodyCompression parameter
            payload = orjson.loads(body)
        except (orjson.JSONDecodeError, OSError, EOFError) as error:
            self.server.store.count("rejected_requests")
            self.reply(400, error_body(f"The request body is not valid JSON: {error}"))
            return
        errors = mail_send_errors(payload, body_size=len(body))
        if errors:
            self.server.store.count("rejected_requests")
            self.reply(400, {"errors": [e.as_json() for e in errors]})
            return
        message_id = secrets.token_urlsafe(16)[:22]
        self.server.store.accept(message_id, payload)
        # What is recorded stays for the server's life: keep the cyclic GC from rescanning it
        # on every collection, which otherwise slows big runs down as the record grows.
        gc.freeze()
        if drop_after:
            self.server.store.count("fault_drop_after_accept")
            self.drop()
            return
        self.reply(202, None, {"X-Message-Id": message_id})


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--api-key", default=None, help="accept only this key (default: any)")
    parser.add_argument("--record", default="personalizations", help="|".join(RECORD_MODES))
    parser.add_argument("--rate-429", type=float, default=0.0)
    parser.add_argument("--retry-after", type=float, default=1.0)
    parser.add_argument("--rate-500", type=float, default=0.0)
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--delay-max", type=float, default=0.0)
    parser.add_argument("--drop", type=float, default=0.0)
    parser.add_argument("--drop-after-accept", type=float, default=0.0)
    parser.add_argument("--fail-nth", default="", help="comma-separated request numbers")
    parser.add_argument("--max-bytes", type=int, default=Faults().max_bytes)
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def faults_from_args(args: argparse.Namespace) -> Faults:
    names = ("rate_429", "retry_after", "rate_500", "delay", "delay_max", "drop")
    changes: dict[str, Any] = {name: getattr(args, name) for name in names}
    changes["drop_after_accept"] = args.drop_after_accept
    changes["fail_nth"] = [int(n) for n in args.fail_nth.split(",") if n.strip()]
    changes["max_bytes"] = args.max_bytes
    changes["seed"] = args.seed
    return Faults().updated(changes)


def main(argv: list[str] | None = None) -> None:
    args = _parse_args(argv)
    server = FakeSendGrid(args.port, faults_from_args(args), args.record, args.api_key, args.host)
    print(f"fake sendgrid listening on {server.url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        sys.stdout.flush()


if __name__ == "__main__":
    main()
