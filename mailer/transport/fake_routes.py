"""The local SendGrid server's control API (`/_fake/...`) and its suppression-list endpoints."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from mailer.transport.fake_store import SUPPRESSION_KINDS

if TYPE_CHECKING:
    from mailer.transport.fake_sendgrid import Handler


def _error(message: str, field: str | None = None) -> dict[str, Any]:
    return {"errors": [{"message": message, "field": field, "help": None}]}


def _int(query: dict[str, str], name: str) -> int | None:
    value = query.get(name)
    return int(value) if value not in (None, "") else None


def control_route(
    handler: Handler, method: str, path: str, query: dict[str, str], body: bytes
) -> None:
    """Serve one `/_fake/` request; bad input gets a 400 with the reason."""
    try:
        _control(handler, method, path.removeprefix("/_fake/"), query, body)
    except (ValueError, TypeError, KeyError, orjson.JSONDecodeError) as error:
        handler.reply(400, _error(f"{type(error).__name__}: {error}"))


def _control(handler: Handler, method: str, name: str, query: dict[str, str], body: bytes) -> None:
    server = handler.server
    store = server.store
    if method == "GET" and name == "requests":
        handler.reply(200, store.requests(_int(query, "offset") or 0, _int(query, "limit")))
    elif method == "GET" and name == "recipients":
        handler.reply(200, store.recipients())
    elif method == "GET" and name == "stats":
        handler.reply(200, store.stats())
    elif name == "faults" and method in ("GET", "POST"):
        if method == "POST":
            changes = orjson.loads(body or b"{}")
            if not isinstance(changes, dict):
                raise ValueError("faults must be a JSON object")
            server.faults = server.faults.updated(changes)
        handler.reply(200, server.faults.as_json())
    elif method == "POST" and name == "reset":
        server.reset()
        handler.reply(200, {"reset": True})
    elif method == "POST" and name == "suppressions":
        entries = orjson.loads(body or b"[]")
        entries = entries if isinstance(entries, list) else [entries]
        added = [store.add_suppression(e.pop("kind"), e) for e in entries]
        handler.reply(201, added)
    else:
        handler.reply(404, _error(f"no control endpoint {method} /_fake/{name}"))


def suppression_route(handler: Handler, path: str, query: dict[str, str]) -> None:
    """`GET /v3/suppression/{bounces,spam_reports,unsubscribes}` in SendGrid's shapes."""
    kind = path.removeprefix("/v3/suppression/")
    if kind not in SUPPRESSION_KINDS:
        handler.reply(404, _error("not found"))
        return
    try:
        rows = handler.server.store.suppressions(
            kind,
            start_time=_int(query, "start_time"),
            end_time=_int(query, "end_time"),
            limit=_int(query, "limit"),
            offset=_int(query, "offset") or 0,
        )
    except ValueError as error:
        handler.reply(400, _error(f"invalid query parameter: {error}"))
        return
    handler.reply(200, rows)
