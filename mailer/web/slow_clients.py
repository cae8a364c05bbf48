"""Bounds on how long a client may take to send a request, so trickling clients cannot hold
connections open (Slowloris).

uvicorn bounds only the idle time between requests. `HeaderDeadline` is its httptools protocol
with a timer from the first byte of a request (or the connection's opening) to the end of its
headers; `BodyDeadline` is ASGI middleware that answers 408 when the body is not in on time.
"""

from __future__ import annotations

import asyncio
from functools import lru_cache
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from mailer.core.settings import load_settings


@lru_cache(maxsize=1)
def header_timeout() -> float:
    """From the settings of the serving process (each uvicorn worker reads its own)."""
    return load_settings().HTTP_HEADER_TIMEOUT_SECONDS


MAX_HEADER_BYTES = 64 * 1024  # the request line and headers together
_TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"content-length: 31\r\nconnection: close\r\n\r\nRequest headers are too large.\n"
)


class HeaderDeadline(HttpToolsProtocol):
    """uvicorn's httptools protocol (its C parser: several times cheaper a request than h11),
    closing connections whose request headers are not in on time."""

    _header_timer: asyncio.TimerHandle | None = None
    _awaiting_headers = True
    _header_bytes = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()  # a connection that never sends a byte is cut too

    def data_received(self, data: bytes) -> None:
        # httptools buffers a header line however long it gets (h11 stopped at 16 KiB): count
        # what arrives until the headers are complete, at most one read past the bound.
        if self._awaiting_headers:
            self._header_bytes += len(data)
        super().data_received(data)
        too_large = self._awaiting_headers and self._header_bytes > MAX_HEADER_BYTES
        if too_large and not self.transport.is_closing():
            self.transport.write(_TOO_LARGE)
            self.transport.close()

    def on_message_begin(self) -> None:
        self._arm()  # the first byte of a request, also the next one on a kept-alive connection
        self._awaiting_headers, self._header_bytes = True, 0
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        self._disarm()  # the body has its own deadline (BodyDeadline)
        self._awaiting_headers = False
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        if self._header_timer is None:
            self._header_timer = self.loop.call_later(header_timeout(), self._too_slow)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _too_slow(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            self.transport.close()


class BodyDeadline:
    """Answer 408 and stop waiting when a request body takes longer than `seconds` to arrive."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = _BodyState(asyncio.get_running_loop().time() + self.seconds)
        try:
            await self.app(scope, state.receiver(receive, send), state.sender(send))
        except Exception:
            if not state.timed_out:
                raise  # the app's own failure; after a timeout, only the disconnect we faked


class _BodyState:
    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.body_done = False
        self.started = False
        self.timed_out = False

    def receiver(self, receive: Receive, send: Send) -> Receive:
        async def timed() -> Message:
            if self.body_done or self.timed_out:
                return await receive()  # e.g. waiting for a disconnect: not bounded here
            remaining = self.deadline - asyncio.get_running_loop().time()
            try:
                message = await asyncio.wait_for(receive(), max(remaining, 0.001))
            except TimeoutError:
                self.timed_out = True
                if not self.started:
                    await _send_408(send)
                return {"type": "http.disconnect"}
            self.body_done = not message.get("more_body", False)
            return message

        return timed

    def sender(self, send: Send) -> Send:
        async def tracked(message: Message) -> None:
            if self.timed_out:
                return  # the client already has its 408
            if message["type"] == "http.response.start":
                self.started = True
            await send(message)

        return tracked


async def _send_408(send: Send) -> None:
    body = b"Request body too slow.\n"
    headers: list[tuple[bytes, bytes]] = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    start: dict[str, Any] = {"type": "http.response.start", "status": 408, "headers": headers}
    await send(start)
    await send({"type": "http.response.body", "body": body})
